package net.aitbc.grid.worker.backend;

import org.jspecify.annotations.Nullable;

/** A job run that failed; {@link #retryable()} tells whether another attempt may succeed. */
public final class BackendException extends Exception {

  private final boolean retryable;

  /** A failure with a message fit to show the client. */
  public BackendException(String message, boolean retryable) {
    this(message, retryable, null);
  }

  /** A failure with a message fit to show the client, and its cause. */
  public BackendException(String message, boolean retryable, @Nullable Throwable cause) {
    super(message, cause);
    this.retryable = retryable;
  }

  /** A failure caused by the job itself (bad payload, unknown model): retrying cannot help. */
  public static BackendException invalid(String message) {
    return new BackendException(message, false);
  }

  /** The run stopped because it was canceled; nobody reports it. */
  public static BackendException canceled() {
    return new BackendException("job canceled", true);
  }

  /**
   * True when another attempt may succeed (a backend was unreachable); false when the job is at
   * fault.
   */
  public boolean retryable() {
    return retryable;
  }
}
