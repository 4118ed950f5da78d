import { formatDate, formatDateTime } from "@/lib/format";

/**
 * A date as admins read it (UTC, labelled), in a `<time>` element. Client components format it twice: on the server
 * and again when the page hydrates, and a browser's Intl data can word a month differently from Node's ("Sep" /
 * "Sept"). React then keeps the server's words rather than failing the page's hydration.
 */
export function DateText({ value, withTime = false }: { value: string; withTime?: boolean }) {
  return (
    <time dateTime={value} suppressHydrationWarning>
      {withTime ? formatDateTime(value) : formatDate(value)}
    </time>
  );
}
