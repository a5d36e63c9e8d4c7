import Type from 'typebox'

/** Money on the wire (API.md §3). */
export const MoneySchema = Type.Object(
  {
    amount: Type.String({ pattern: '^(0|[1-9][0-9]*)(\\.[0-9]+)?$', maxLength: 24, description: 'A decimal string in the currency\'s minor-unit exponent: "1500000" VND, "12.50" EUR.', examples: ['120.00'] }),
    currency: Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217.', examples: ['USD'] }),
  },
  { title: 'Money', additionalProperties: false },
)
