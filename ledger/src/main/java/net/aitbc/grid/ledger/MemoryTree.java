package net.aitbc.grid.ledger;

import java.util.ArrayList;
import java.util.List;

/** An in-memory tree of leaf hashes keeping every perfect node (for tests, tools and the benchmark). */
public final class MemoryTree implements Merkle.Nodes {
  /** levels.get(k).get(i) covers leaves [i*2^k, (i+1)*2^k). */
  private final List<List<byte[]>> levels = new ArrayList<>();

  /** Appends a leaf hash. */
  public void append(byte[] leafHash) {
    byte[] hash = leafHash;
    for (int level = 0; ; level++) {
      if (levels.size() == level) {
        levels.add(new ArrayList<>());
      }
      List<byte[]> nodes = levels.get(level);
      nodes.add(hash);
      if (nodes.size() % 2 == 1) {
        return;
      }
      hash = Merkle.nodeHash(nodes.get(nodes.size() - 2), hash);
    }
  }

  /** The number of leaves. */
  public long size() {
    return levels.isEmpty() ? 0 : levels.getFirst().size();
  }

  /** MTH of the first {@code size} leaves. */
  public byte[] root(long size) {
    checkSize(size);
    List<Merkle.Range> parts = Merkle.perfectParts(new Merkle.Range(0, size));
    List<byte[]> hashes = new ArrayList<>(parts.size());
    for (Merkle.Range part : parts) {
      int level = Long.numberOfTrailingZeros(part.size());
      hashes.add(node(level, part.from() >> level));
    }
    return Merkle.combineParts(hashes);
  }

  @Override
  public byte[] node(int level, long index) {
    if (level < 0 || level >= levels.size() || index < 0 || index >= levels.get(level).size()) {
      throw new IllegalArgumentException("no perfect node at level " + level + ", index " + index + " in a tree of " + size());
    }
    return levels.get(level).get((int) index);
  }

  /** The inclusion proof of leaf {@code index} in the tree of the first {@code size} leaves. */
  public List<byte[]> inclusionProof(long index, long size) {
    checkSize(size);
    return Merkle.proof(Merkle.inclusionPath(index, size), this);
  }

  /** The consistency proof from the tree of the first {@code first} leaves to that of the first {@code second}. */
  public List<byte[]> consistencyProof(long first, long second) {
    checkSize(second);
    return Merkle.proof(Merkle.consistencyPath(first, second), this);
  }

  private void checkSize(long size) {
    if (size < 0 || size > size()) {
      throw new IllegalArgumentException("the tree has " + size() + " leaves, not " + size);
    }
  }
}
