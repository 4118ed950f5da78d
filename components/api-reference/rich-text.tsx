/** The document's descriptions: plain text with `code` spans, nothing else (no HTML, no Markdown links). */
export function RichText({ text }: { text: string }) {
  const parts = text.split("`");
  // An unmatched backtick leaves an odd part out: show the text as it is rather than guess.
  if (parts.length % 2 === 0) return <>{text}</>;
  return <>{parts.map((part, index) => (index % 2 === 1 ? <code key={index}>{part}</code> : part))}</>;
}
