/**
 * A DI token that carries the type of its service: a `Symbol.for` key at run time (so a host holding
 * another copy of the package still matches it), and to the compiler an abstract constructor of the
 * service, which is how inversify's `ServiceIdentifier<T>` lets `container.get(Token)`,
 * `container.rebind(Token).toConstantValue({...})` and friends infer `T` with no type argument. Nothing
 * ever constructs it.
 */
export type ServiceToken<T> = symbol & (abstract new (...args: never[]) => T);

/** The token of service `name`: `Symbol.for('tumblr-media-downloader/<name>')`, typed as its service. */
export function serviceToken<T>(name: string): ServiceToken<T> {
  return Symbol.for(`tumblr-media-downloader/${name}`) as unknown as ServiceToken<T>;
}
