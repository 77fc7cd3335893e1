package net.aitbc.grid.coordinator.auth;

import org.jspecify.annotations.Nullable;

/**
 * What one key may use. Null parts take the coordinator's defaults.
 *
 * @param weight the key's share of the workers relative to other keys (fair share)
 * @param ratePerSec submissions per second refilled into its token bucket; 0 or less: unlimited
 * @param burst the bucket's size: submissions allowed at once after a quiet spell
 * @param maxQueued the most queued jobs its client may have
 */
public record KeyLimits(double weight, @Nullable Double ratePerSec, @Nullable Integer burst,
    @Nullable Integer maxQueued) {

  /** Weight 1, everything else the coordinator's defaults. */
  public static final KeyLimits DEFAULT = new KeyLimits(1, null, null, null);

  /** Checks the values. */
  public KeyLimits {
    if (!(weight > 0) || !Double.isFinite(weight)) {
      throw new IllegalArgumentException("weight must be a positive number, not " + weight);
    }
    if (burst != null && burst < 1) {
      throw new IllegalArgumentException("burst must be at least 1, not " + burst);
    }
    if (maxQueued != null && maxQueued < 0) {
      throw new IllegalArgumentException("max queued must not be negative, not " + maxQueued);
    }
  }
}
