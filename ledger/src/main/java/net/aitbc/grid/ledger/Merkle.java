package net.aitbc.grid.ledger;

import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The Merkle tree of RFC 9162 §2.1 (Certificate Transparency): its hashes, the ranges that inclusion
 * and consistency proofs are made of, and the verification of both proofs.
 */
public final class Merkle {
  private static final byte[] EMPTY_ROOT = CanonicalJson.sha256(new byte[0]);

  private Merkle() {}

  /** SHA-256(0x00 || entry). */
  public static byte[] leafHash(byte[] entry) {
    MessageDigest digest = CanonicalJson.sha256();
    digest.update((byte) 0);
    return digest.digest(entry);
  }

  /** SHA-256(0x01 || left || right). */
  public static byte[] nodeHash(byte[] left, byte[] right) {
    MessageDigest digest = CanonicalJson.sha256();
    digest.update((byte) 1);
    digest.update(left);
    return digest.digest(right);
  }

  /** The root of the empty tree: SHA-256 of nothing. */
  public static byte[] emptyRoot() {
    return EMPTY_ROOT.clone();
  }

  /** MTH over leaf hashes, in O(n) time and O(log n) memory. */
  public static byte[] root(List<byte[]> leafHashes) {
    if (leafHashes.isEmpty()) {
      return emptyRoot();
    }
    // The perfect subtrees of the leaves so far, largest first: a compact range without its bookkeeping.
    byte[][] frontier = new byte[64][];
    int count = 0;
    long size = 0;
    for (byte[] leaf : leafHashes) {
      byte[] hash = leaf;
      for (long s = size; (s & 1) == 1; s >>= 1) {
        hash = nodeHash(frontier[--count], hash);
      }
      frontier[count++] = hash;
      size++;
    }
    byte[] root = frontier[count - 1];
    for (int i = count - 2; i >= 0; i--) {
      root = nodeHash(frontier[i], root);
    }
    return root;
  }

  /** The leaves {@code [from, to)}. */
  public record Range(long from, long to) {
    /** Checks {@code 0 <= from <= to}. */
    public Range {
      if (from < 0 || to < from) {
        throw new IllegalArgumentException("not a range of leaves: [" + from + ", " + to + ")");
      }
    }

    /** The number of leaves. */
    public long size() {
      return to - from;
    }
  }

  /** The ranges whose hashes form the inclusion proof of {@code index} in a tree of {@code size} leaves, in proof order (RFC 9162 PATH). */
  public static List<Range> inclusionPath(long index, long size) {
    if (index < 0 || index >= size) {
      throw new IllegalArgumentException("leaf " + index + " is not in a tree of " + size);
    }
    // PATH(m, D[from:to]) = PATH(m, D[from:from+k]) : MTH(D[from+k:to]) or the mirror; walked top down, then reversed.
    List<Range> path = new ArrayList<>();
    long from = 0;
    long to = size;
    while (to - from > 1) {
      long k = Long.highestOneBit(to - from - 1);
      if (index < from + k) {
        path.add(new Range(from + k, to));
        to = from + k;
      } else {
        path.add(new Range(from, from + k));
        from += k;
      }
    }
    Collections.reverse(path);
    return path;
  }

  /** The ranges whose hashes form the consistency proof from {@code first} to {@code second} leaves (RFC 9162 PROOF), in proof order; empty when first == second or first == 0. */
  public static List<Range> consistencyPath(long first, long second) {
    if (first < 0 || second < first) {
      throw new IllegalArgumentException("no consistency proof from " + first + " to " + second + " leaves");
    }
    List<Range> path = new ArrayList<>();
    if (first == 0 || first == second) {
      return path;
    }
    // SUBPROOF(m, D[from:to], b), walked top down with m relative to from, then reversed.
    long m = first;
    long from = 0;
    long to = second;
    boolean whole = true;
    while (m != to - from) {
      long k = Long.highestOneBit(to - from - 1);
      if (m <= k) {
        path.add(new Range(from + k, to));
        to = from + k;
      } else {
        path.add(new Range(from, from + k));
        m -= k;
        from += k;
        whole = false;
      }
    }
    if (!whole) {
      path.add(new Range(from, to));
    }
    Collections.reverse(path);
    return path;
  }

  /** {@code range} as aligned perfect subtrees, left to right: each part [a, a + 2^k) with a a multiple of 2^k. */
  public static List<Range> perfectParts(Range range) {
    List<Range> parts = new ArrayList<>();
    long a = range.from();
    while (a < range.to()) {
      long step = a == 0 ? Long.highestOneBit(range.to()) : Long.lowestOneBit(a);
      while (a + step > range.to()) {
        step >>= 1;
      }
      parts.add(new Range(a, a + step));
      a += step;
    }
    return parts;
  }

  /** The MTH of a proof range from the hashes of its perfect parts (as perfectParts gives them): a right fold with nodeHash. */
  public static byte[] combineParts(List<byte[]> partHashes) {
    if (partHashes.isEmpty()) {
      return emptyRoot();
    }
    byte[] hash = partHashes.getLast();
    for (int i = partHashes.size() - 2; i >= 0; i--) {
      hash = nodeHash(partHashes.get(i), hash);
    }
    return hash;
  }

  /** Hashes of aligned perfect subtrees: level k, index i covers leaves [i*2^k, (i+1)*2^k). */
  public interface Nodes {
    /** The hash of the perfect subtree at {@code level} and {@code index}. */
    byte[] node(int level, long index);
  }

  /** The proof for a path, each range's hash from {@code nodes} (via perfectParts and combineParts). */
  public static List<byte[]> proof(List<Range> path, Nodes nodes) {
    List<byte[]> proof = new ArrayList<>(path.size());
    for (Range range : path) {
      List<Range> parts = perfectParts(range);
      List<byte[]> hashes = new ArrayList<>(parts.size());
      for (Range part : parts) {
        int level = Long.numberOfTrailingZeros(part.size());
        hashes.add(nodes.node(level, part.from() >> level));
      }
      proof.add(combineParts(hashes));
    }
    return proof;
  }

  /** True if {@code proof} shows {@code leafHash} at {@code index} in the tree of {@code size} leaves with {@code root} (RFC 9162 §2.1.3.2). */
  public static boolean verifyInclusion(long index, long size, byte[] leafHash, List<byte[]> proof, byte[] root) {
    byte[] computed = rootFromInclusion(index, size, leafHash, proof);
    return computed != null && MessageDigest.isEqual(computed, root);
  }

  /** The root an inclusion proof leads to, or null if the proof has the wrong length (or index is not below size). */
  public static byte @Nullable [] rootFromInclusion(long index, long size, byte[] leafHash, List<byte[]> proof) {
    if (index < 0 || index >= size) {
      return null;
    }
    long fn = index;
    long sn = size - 1;
    byte[] r = leafHash;
    for (byte[] p : proof) {
      if (sn == 0) {
        return null;
      }
      if ((fn & 1) == 1 || fn == sn) {
        r = nodeHash(p, r);
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      } else {
        r = nodeHash(r, p);
      }
      fn >>= 1;
      sn >>= 1;
    }
    return sn == 0 ? r : null;
  }

  /** True if {@code proof} shows the tree of {@code second} leaves with {@code secondRoot} extends the one of {@code first} with {@code firstRoot} (RFC 9162 §2.1.4.2). */
  public static boolean verifyConsistency(long first, long second, byte[] firstRoot, byte[] secondRoot, List<byte[]> proof) {
    if (first < 0 || second < first) {
      return false;
    }
    if (first == second) {
      return proof.isEmpty() && MessageDigest.isEqual(firstRoot, secondRoot);
    }
    if (first == 0) {
      return proof.isEmpty() && MessageDigest.isEqual(firstRoot, EMPTY_ROOT);
    }
    if (proof.isEmpty()) {
      return false;
    }
    List<byte[]> path = proof;
    if (Long.bitCount(first) == 1) {
      path = new ArrayList<>(proof.size() + 1);
      path.add(firstRoot);
      path.addAll(proof);
    }
    long fn = first - 1;
    long sn = second - 1;
    while ((fn & 1) == 1) {
      fn >>= 1;
      sn >>= 1;
    }
    byte[] fr = path.getFirst();
    byte[] sr = path.getFirst();
    for (int i = 1; i < path.size(); i++) {
      byte[] c = path.get(i);
      if (sn == 0) {
        return false;
      }
      if ((fn & 1) == 1 || fn == sn) {
        fr = nodeHash(c, fr);
        sr = nodeHash(c, sr);
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      } else {
        sr = nodeHash(sr, c);
      }
      fn >>= 1;
      sn >>= 1;
    }
    return sn == 0 && MessageDigest.isEqual(fr, firstRoot) && MessageDigest.isEqual(sr, secondRoot);
  }
}
