package net.aitbc.grid.coordinator.miner;

import static java.util.Objects.requireNonNull;

import net.aitbc.grid.coordinator.store.Offer;

/**
 * What a miner registered with.
 *
 * @param offer what it offers, for matching
 * @param concurrency how many jobs it may hold at once
 * @param capabilitiesJson the capabilities matching reads, as stored and shown to operators
 * @param describedJson the capabilities as the miner described them
 */
public record MinerSpec(Offer offer, int concurrency, String capabilitiesJson, String describedJson) {
  /** Checks the values. */
  public MinerSpec {
    requireNonNull(offer, "offer");
    requireNonNull(capabilitiesJson, "capabilitiesJson");
    requireNonNull(describedJson, "describedJson");
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, not " + concurrency);
    }
  }
}
