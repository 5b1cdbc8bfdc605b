/**
 * The accounts the engine knows, validated on the way in, with change events. Holds no secrets:
 * tokens live with the upstream client (SecretStorage in the extension).
 */
import { ConfigError, formatIssues } from './errors';
import type { Account, AccountId } from './types';
import { AccountSchema } from './types';

export type AccountChange =
  | { kind: 'added'; account: Account }
  | { kind: 'updated'; account: Account; previous: Account }
  | { kind: 'removed'; account: Account };

export type Listener<T> = (event: T) => void;

export interface Disposable {
  dispose(): void;
}

/** A minimal typed event emitter; a throwing listener does not stop the others. */
export class Emitter<T> {
  private readonly listeners = new Set<Listener<T>>();

  on(listener: Listener<T>): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  emit(event: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(event);
      } catch {
        // A listener's bug must not break the engine; listeners report their own errors.
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }

  clear(): void {
    this.listeners.clear();
  }
}

export class AccountRegistry {
  private readonly accounts = new Map<AccountId, Account>();
  private readonly changes = new Emitter<AccountChange>();

  constructor(initial: readonly unknown[] = []) {
    for (const a of initial) this.add(a);
  }

  onChange(listener: Listener<AccountChange>): Disposable {
    return this.changes.on(listener);
  }

  /** Adds a new account; throws ConfigError when invalid or when the id is taken. */
  add(input: unknown): Account {
    const account = parseAccount(input);
    if (this.accounts.has(account.id)) {
      throw new ConfigError(`Account "${account.id}" already exists; use update() to change it.`);
    }
    this.accounts.set(account.id, account);
    this.changes.emit({ kind: 'added', account });
    return account;
  }

  /** Merges `patch` into the account; throws ConfigError when the id is unknown or the result invalid. */
  update(id: AccountId, patch: Partial<Omit<Account, 'id'>>): Account {
    const previous = this.accounts.get(id);
    if (previous === undefined) throw new ConfigError(`No account "${id}" to update; add it first.`);
    const account = parseAccount({ ...previous, ...patch, id });
    this.accounts.set(id, account);
    this.changes.emit({ kind: 'updated', account, previous });
    return account;
  }

  /** Adds or replaces. */
  upsert(input: unknown): Account {
    const account = parseAccount(input);
    return this.accounts.has(account.id) ? this.update(account.id, account) : this.add(account);
  }

  remove(id: AccountId): boolean {
    const account = this.accounts.get(id);
    if (account === undefined) return false;
    this.accounts.delete(id);
    this.changes.emit({ kind: 'removed', account });
    return true;
  }

  get(id: AccountId): Account | undefined {
    return this.accounts.get(id);
  }

  has(id: AccountId): boolean {
    return this.accounts.has(id);
  }

  /** All accounts in insertion order. */
  list(): Account[] {
    return [...this.accounts.values()];
  }

  get size(): number {
    return this.accounts.size;
  }
}

function parseAccount(input: unknown): Account {
  const parsed = AccountSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      `Invalid account: ${formatIssues(parsed.error.issues)}. An account needs id, email, label, tier and status.`,
    );
  }
  return Object.freeze(parsed.data);
}
