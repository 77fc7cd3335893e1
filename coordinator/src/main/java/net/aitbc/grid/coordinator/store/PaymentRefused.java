package net.aitbc.grid.coordinator.store;

/** A payment operation refused for a reason the caller can act on; nothing was moved. */
public final class PaymentRefused extends RuntimeException {
  /** What kind of refusal: the rpc layer answers each with its own status. */
  public enum Reason {
    /** The input breaks a rule (amount, currency, timeout). */
    INVALID,
    /** No such job or payment for this client. */
    NOT_FOUND,
    /** The paying account's balance and credit limit do not cover the amount. */
    INSUFFICIENT_FUNDS,
    /** Something else already holds this key: the job has a different live payment, a deposit key was used. */
    CONFLICT,
    /** The payment was already settled the other way (released when refunding, refunded when releasing). */
    SETTLED,
    /** The job cannot be paid for, or released to a worker, in its present state. */
    NOT_PAYABLE
  }

  private final Reason reason;

  /** A refusal for {@code reason}, with a message a user can read. */
  public PaymentRefused(Reason reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  /** Why it was refused. */
  public Reason reason() {
    return reason;
  }
}
