// esbuild's 'text' loader turns an imported .css file into its text (injected with the CSP nonce).
declare module '*.css' {
  const text: string;
  export default text;
}
