import Ajv2020Module from 'ajv/dist/2020.js';

/** ajv's JSON Schema 2020-12 validator class, for the tests that check payloads and configs against the manifest. */
export const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ?? Ajv2020Module) as typeof Ajv2020Module.default;
