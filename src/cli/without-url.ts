/** A message without the URL it ends with (`…: <url>`, `… from <url>`): the line that shows it names the URL already. */
export function withoutUrl(message: string, url: string): string {
  if (url === '') return message;
  for (const tail of [`: ${url}`, ` from ${url}`]) if (message.endsWith(tail)) return message.slice(0, -tail.length);
  return message;
}
