package net.aitbc.grid.coordinator.miner;

import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** One miner's sessions on this coordinator: the current one, and old ones finishing their jobs (guarded by its monitor). */
final class MinerState {
  /** A miner: its owner's client id and its own id. */
  record Key(String ownerId, String minerId) {}

  final Key key;
  @Nullable MinerSession current;
  @Nullable MinerSpec spec;
  final List<MinerSession> retiring = new ArrayList<>();
  // Bumped by each deregistration, so that a call racing one does not open a session after it.
  long generation;

  MinerState(Key key) {
    this.key = key;
  }

  boolean live() {
    return current != null && !current.closed();
  }

  List<MinerSession> sessions() {
    List<MinerSession> all = new ArrayList<>(retiring);
    if (current != null) {
      all.add(current);
    }
    return all;
  }
}
