import { describe, expect, it } from 'vitest';
import { EMPTY_TERMS, termsToBody } from '@/components/coupons/coupon-form';
import { EMPTY_CRITERIA, fromForm } from '@/components/segments/criteria';
import { couponCreate, couponFields } from '@/lib/coupons/schemas';
import { segmentCriteria } from '@/lib/segments/schemas';

/** What the server answers for one field's value: its schema's first message, or none. */
const serverMessage = (schema: { safeParse: (v: unknown) => { error?: { issues: { message: string }[] } } }, value: unknown) =>
  schema.safeParse(value).error?.issues[0]?.message;

const TYPED = ['abc', '0', '-3', '1.5', '1e12', '100000001', '25'];

describe('the browser forms check with the server schemas themselves', () => {
  it('each coupon number field gives the message the API would give, for every kind of bad input', () => {
    const fields = ['usageLimit', 'perCustomerLimit', 'minimumPurchase', 'minimumQuantity'] as const;
    for (const field of fields) {
      for (const raw of TYPED) {
        const { errors } = termsToBody({ ...EMPTY_TERMS, discountValue: '10', [field]: raw });
        expect({ field, raw, message: errors[field] }).toEqual({ field, raw, message: serverMessage(couponFields[field], Number(raw)) });
      }
    }
  });

  it('a coupon form the browser accepts is a body the API accepts, and the cross-field rules agree', () => {
    const ok = termsToBody({ ...EMPTY_TERMS, discountValue: '15', usageLimit: '100', minimumPurchase: '20.5' });
    expect(ok.errors).toEqual({});
    expect(couponCreate.safeParse({ code: 'FORM15', ...ok.body }).success).toBe(true);
    const over = termsToBody({ ...EMPTY_TERMS, discountValue: '150' });
    const server = couponCreate.safeParse({ code: 'FORM150', ...over.body });
    expect(over.errors.discountValue).toBe(server.error?.issues[0]?.message);
    const bogo = termsToBody({ ...EMPTY_TERMS, discountType: 'buy_x_get_y', buyQuantity: '2' });
    expect(bogo.errors.getQuantity).toBe(couponCreate.safeParse({ code: 'BOGO', ...bogo.body }).error?.issues[0]?.message);
  });

  it('segment criteria numbers and min/max pairs give the server messages', () => {
    for (const raw of TYPED) {
      const { errors } = fromForm({ ...EMPTY_CRITERIA, min_orders: raw });
      expect({ raw, message: errors.min_orders }).toEqual({ raw, message: serverMessage(segmentCriteria.shape.min_orders, Number(raw)) });
    }
    const crossed = fromForm({ ...EMPTY_CRITERIA, min_ltv: '500', max_ltv: '100' });
    expect(crossed.errors.min_ltv).toBe(segmentCriteria.safeParse({ min_ltv: 500, max_ltv: 100 }).error?.issues[0]?.message);
    expect(crossed.errors.min_ltv).toBe('The minimum must not be above the maximum');
  });
});
