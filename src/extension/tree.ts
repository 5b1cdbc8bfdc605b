/** The Accounts tree: renders src/shared/view/tree.ts nodes as TreeItems. */
import * as vscode from 'vscode';
import type { TreeNode } from '../shared/view/tree';
import { treeNodes } from '../shared/view/tree';
import type { ViewSource } from './viewSource';

export class AccountsTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private roots: TreeNode[] = [];
  private readonly sub: vscode.Disposable;
  private ticker: ReturnType<typeof setInterval>;

  constructor(private readonly source: ViewSource) {
    this.sub = source.onDidChange(() => this.refresh());
    this.ticker = setInterval(() => this.refresh(), 60_000);
    this.refresh();
  }

  refresh(): void {
    const current = this.source.current();
    this.roots = treeNodes(this.source.snapshot(), {
      now: Date.now(),
      pinnedAccountId: this.source.pinnedAccountId(),
      currentAccountId: current?.accountId ?? null,
    });
    this.emitter.fire(undefined);
  }

  getChildren(element?: TreeNode): TreeNode[] {
    return element ? element.children : this.roots;
  }

  getTreeItem(node: TreeNode): vscode.TreeItem {
    const state =
      node.expanded === null
        ? vscode.TreeItemCollapsibleState.None
        : node.expanded
          ? vscode.TreeItemCollapsibleState.Expanded
          : vscode.TreeItemCollapsibleState.Collapsed;
    const item = new vscode.TreeItem(node.label, state);
    item.id = node.id;
    item.description = node.description;
    item.tooltip = node.tooltip;
    item.contextValue = node.contextValue;
    item.iconPath = new vscode.ThemeIcon(
      node.icon.id,
      node.icon.color ? new vscode.ThemeColor(node.icon.color) : undefined,
    );
    item.accessibilityInformation = { label: `${node.label}, ${node.description}` };
    if (node.command) {
      item.command = {
        command: node.command.command,
        title: node.command.title,
        arguments: node.command.args,
      };
    }
    return item;
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.sub.dispose();
    this.emitter.dispose();
  }
}
