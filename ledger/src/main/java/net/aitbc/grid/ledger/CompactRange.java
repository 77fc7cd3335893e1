package net.aitbc.grid.ledger;

import java.util.ArrayList;
import java.util.List;

/** The right edge of an append-only tree: enough to append and to compute the root, in O(log n) memory. */
public final class CompactRange {
  private long size;
  private final ArrayList<byte[]> frontier;

  /** A range of {@code size} leaves from its frontier: the perfect subtrees of size's binary decomposition, largest (leftmost) first. */
  public CompactRange(long size, List<byte[]> frontier) {
    if (size < 0) {
      throw new IllegalArgumentException("a tree has no " + size + " leaves");
    }
    if (frontier.size() != Long.bitCount(size)) {
      throw new IllegalArgumentException(
          "a tree of " + size + " leaves has " + Long.bitCount(size) + " frontier hashes, got " + frontier.size());
    }
    for (byte[] hash : frontier) {
      if (hash.length != 32) {
        throw new IllegalArgumentException("a frontier hash is 32 bytes, got " + hash.length);
      }
    }
    this.size = size;
    this.frontier = new ArrayList<>(frontier);
  }

  /** The range of no leaves. */
  public static CompactRange empty() {
    return new CompactRange(0, List.of());
  }

  /** The number of leaves appended. */
  public long size() {
    return size;
  }

  /** The hashes of the perfect subtrees that make up the tree, largest (leftmost) first. */
  public List<byte[]> frontier() {
    return List.copyOf(frontier);
  }

  /** Appends a leaf hash; returns every aligned perfect node that this completes, the leaf itself (level 0) first, then upwards. */
  public List<Node> append(byte[] leafHash) {
    if (leafHash.length != 32) {
      throw new IllegalArgumentException("a leaf hash is 32 bytes, got " + leafHash.length);
    }
    List<Node> completed = new ArrayList<>();
    byte[] hash = leafHash;
    int level = 0;
    long index = size;
    completed.add(new Node(0, index, hash));
    // Each trailing one bit of size is a left sibling on the frontier waiting for this subtree.
    for (long s = size; (s & 1) == 1; s >>= 1) {
      hash = Merkle.nodeHash(frontier.removeLast(), hash);
      level++;
      index >>= 1;
      completed.add(new Node(level, index, hash));
    }
    frontier.add(hash);
    size++;
    return completed;
  }

  /** The tree's root: MTH of all the leaves, emptyRoot() when there are none. */
  public byte[] root() {
    return Merkle.combineParts(frontier);
  }

  /** A perfect subtree: {@code level} k and {@code index} i cover leaves [i*2^k, (i+1)*2^k). */
  public record Node(int level, long index, byte[] hash) {}
}
