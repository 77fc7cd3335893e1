package net.aitbc.grid.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Merkle, CompactRange and MemoryTree against a naive recursive RFC 9162 written from its definitions. */
class MerkleTest {
  /** 1, 2, 3, powers of two and their neighbours up to 8193, 10,000 and a few random sizes. */
  private static List<Integer> sizes(Random random) {
    TreeSet<Integer> sizes = new TreeSet<>(List.of(1, 2, 3, 5, 6, 7, 10_000));
    for (int p = 4; p <= 8192; p *= 2) {
      sizes.addAll(List.of(p - 1, p, p + 1));
    }
    for (int i = 0; i < 5; i++) {
      sizes.add(1 + random.nextInt(10_000));
    }
    return new ArrayList<>(sizes);
  }

  private static List<byte[]> entries(Random random, int n) {
    List<byte[]> entries = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      byte[] entry = new byte[random.nextInt(40)];
      random.nextBytes(entry);
      entries.add(entry);
    }
    return entries;
  }

  @Test
  void hashesAreTheRfcOnes() {
    assertThat(Merkle.emptyRoot()).isEqualTo(NaiveRfc9162.sha256());
    assertThat(Merkle.root(List.of())).isEqualTo(NaiveRfc9162.sha256());
    byte[] entry = {1, 2, 3};
    assertThat(Merkle.leafHash(entry)).isEqualTo(NaiveRfc9162.sha256(new byte[] {0}, entry));
    byte[] a = Merkle.leafHash(new byte[] {1});
    byte[] b = Merkle.leafHash(new byte[] {2});
    assertThat(Merkle.nodeHash(a, b)).isEqualTo(NaiveRfc9162.sha256(new byte[] {1}, a, b));
    assertThat(Merkle.root(List.of(a))).isEqualTo(a);
    assertThat(CompactRange.empty().root()).isEqualTo(Merkle.emptyRoot());
    assertThat(new MemoryTree().root(0)).isEqualTo(Merkle.emptyRoot());
  }

  @Test
  void rootsAndProofsMatchTheNaiveRfcOnRandomTrees() {
    Random random = new Random(9162);
    for (int n : sizes(random)) {
      List<byte[]> entries = entries(random, n);
      List<byte[]> leaves = entries.stream().map(Merkle::leafHash).toList();
      MemoryTree tree = new MemoryTree();
      CompactRange range = CompactRange.empty();
      for (byte[] leaf : leaves) {
        tree.append(leaf);
        for (CompactRange.Node node : range.append(leaf)) {
          assertThat(node.hash()).isEqualTo(tree.node(node.level(), node.index()));
        }
      }
      byte[] root = NaiveRfc9162.mth(entries);
      assertThat(Merkle.root(leaves)).as("root of %d", n).isEqualTo(root);
      assertThat(tree.root(n)).isEqualTo(root);
      assertThat(range.root()).isEqualTo(root);
      assertThat(range.size()).isEqualTo(n);
      assertThat(new CompactRange(n, range.frontier()).root()).isEqualTo(root);

      for (int index : someBelow(random, n)) {
        List<byte[]> naive = NaiveRfc9162.path(index, entries);
        List<byte[]> proof = Merkle.proof(Merkle.inclusionPath(index, n), tree);
        assertThat(proof).as("inclusion of %d in %d", index, n).containsExactlyElementsOf(naive);
        assertThat(tree.inclusionProof(index, n)).containsExactlyElementsOf(naive);
        assertThat(Merkle.verifyInclusion(index, n, leaves.get(index), proof, root)).isTrue();
        assertThat(Merkle.rootFromInclusion(index, n, leaves.get(index), proof)).isEqualTo(root);
      }
      for (int first : someBelow(random, n + 1)) {
        List<byte[]> entriesFirst = entries.subList(0, first);
        byte[] firstRoot = NaiveRfc9162.mth(entriesFirst);
        List<byte[]> naive = first == 0 ? List.of() : NaiveRfc9162.proof(first, entries);
        List<byte[]> proof = tree.consistencyProof(first, n);
        assertThat(proof).as("consistency %d -> %d", first, n).containsExactlyElementsOf(naive);
        assertThat(Merkle.verifyConsistency(first, n, firstRoot, root, proof)).as("%d -> %d", first, n).isTrue();
        assertThat(tree.root(first)).isEqualTo(firstRoot);
      }
    }
  }

  @Test
  void everyProofOfSmallTreesVerifiesAndEveryTamperFails() {
    int n = 50;
    List<byte[]> entries = entries(new Random(3), n);
    MemoryTree tree = new MemoryTree();
    entries.forEach(e -> tree.append(Merkle.leafHash(e)));
    for (int size = 1; size <= n; size++) {
      byte[] root = tree.root(size);
      assertThat(root).isEqualTo(NaiveRfc9162.mth(entries.subList(0, size)));
      for (int index = 0; index < size; index++) {
        byte[] leaf = tree.node(0, index);
        List<byte[]> proof = tree.inclusionProof(index, size);
        assertThat(proof).containsExactlyElementsOf(NaiveRfc9162.path(index, entries.subList(0, size)));
        assertThat(Merkle.verifyInclusion(index, size, leaf, proof, root)).isTrue();
        assertInclusionTampersFail(index, size, leaf, proof, root);
      }
      for (int first = 1; first < size; first++) {
        byte[] firstRoot = tree.root(first);
        List<byte[]> proof = tree.consistencyProof(first, size);
        assertThat(proof).containsExactlyElementsOf(NaiveRfc9162.proof(first, entries.subList(0, size)));
        assertThat(Merkle.verifyConsistency(first, size, firstRoot, root, proof)).isTrue();
        assertConsistencyTampersFail(first, size, firstRoot, root, proof);
      }
      assertThat(Merkle.verifyConsistency(size, size, root, root, List.of())).isTrue();
      assertThat(Merkle.verifyConsistency(0, size, Merkle.emptyRoot(), root, List.of())).isTrue();
    }
  }

  private static void assertInclusionTampersFail(int index, int size, byte[] leaf, List<byte[]> proof, byte[] root) {
    assertThat(Merkle.verifyInclusion(index, size, flip(leaf, 0), proof, root)).isFalse();
    assertThat(Merkle.verifyInclusion(index, size, leaf, proof, flip(root, 31))).isFalse();
    for (int i = 0; i < proof.size(); i++) {
      List<byte[]> bad = new ArrayList<>(proof);
      bad.set(i, flip(proof.get(i), i % 32));
      assertThat(Merkle.verifyInclusion(index, size, leaf, bad, root)).isFalse();
    }
    if (!proof.isEmpty()) {
      assertThat(Merkle.verifyInclusion(index, size, leaf, proof.subList(0, proof.size() - 1), root)).isFalse();
      assertThat(Merkle.rootFromInclusion(index, size, leaf, proof.subList(1, proof.size()))).isNull();
    }
    List<byte[]> longer = new ArrayList<>(proof);
    longer.add(root);
    assertThat(Merkle.rootFromInclusion(index, size, leaf, longer)).isNull();
    if (size > 1) {
      assertThat(Merkle.verifyInclusion((index + 1) % size, size, leaf, proof, root)).as("other index").isFalse();
    }
    assertThat(Merkle.verifyInclusion(size, size, leaf, proof, root)).isFalse();
    assertThat(Merkle.verifyInclusion(-1, size, leaf, proof, root)).isFalse();
  }

  private static void assertConsistencyTampersFail(int first, int size, byte[] firstRoot, byte[] root, List<byte[]> proof) {
    assertThat(Merkle.verifyConsistency(first, size, flip(firstRoot, 3), root, proof)).isFalse();
    assertThat(Merkle.verifyConsistency(first, size, firstRoot, flip(root, 4), proof)).isFalse();
    for (int i = 0; i < proof.size(); i++) {
      List<byte[]> bad = new ArrayList<>(proof);
      bad.set(i, flip(proof.get(i), 5));
      assertThat(Merkle.verifyConsistency(first, size, firstRoot, root, bad)).isFalse();
    }
    assertThat(Merkle.verifyConsistency(first, size, firstRoot, root, proof.subList(0, proof.size() - 1))).isFalse();
    List<byte[]> longer = new ArrayList<>(proof);
    longer.add(root);
    assertThat(Merkle.verifyConsistency(first, size, firstRoot, root, longer)).isFalse();
    // (A proof for one size may hold for another with the same root hash: it then speaks of a
    // different tree, so a size change is no tamper to test here.)
    assertThat(Merkle.verifyConsistency(size, first, root, firstRoot, proof)).isFalse();
  }

  @Test
  void perfectPartsAreAlignedAndCoverTheRange() {
    Random random = new Random(11);
    for (int i = 0; i < 5000; i++) {
      long from = random.nextInt(1 << 20);
      long to = from + random.nextInt(1 << 12);
      List<Merkle.Range> parts = Merkle.perfectParts(new Merkle.Range(from, to));
      long at = from;
      for (Merkle.Range part : parts) {
        assertThat(part.from()).isEqualTo(at);
        assertThat(Long.bitCount(part.size())).isEqualTo(1);
        assertThat(part.from() % part.size()).isZero();
        at = part.to();
      }
      assertThat(at).isEqualTo(to);
    }
    assertThat(Merkle.perfectParts(new Merkle.Range(0, 7)))
        .containsExactly(new Merkle.Range(0, 4), new Merkle.Range(4, 6), new Merkle.Range(6, 7));
    assertThat(Merkle.perfectParts(new Merkle.Range(6, 16)))
        .containsExactly(new Merkle.Range(6, 8), new Merkle.Range(8, 16));
  }

  @Test
  void pathsOfKnownShapes() {
    // RFC 9162 §2.1.5's example tree of 7 leaves: d0's path is [d1, h(c,d), h(e,f,g)].
    assertThat(Merkle.inclusionPath(0, 7))
        .containsExactly(new Merkle.Range(1, 2), new Merkle.Range(2, 4), new Merkle.Range(4, 7));
    // Consistency proof between hash0 (size 3) and hash (size 7): [c, d, g, l] = [2,3), [3,4), [0,2), [4,7).
    assertThat(Merkle.consistencyPath(3, 7)).containsExactly(
        new Merkle.Range(2, 3), new Merkle.Range(3, 4), new Merkle.Range(0, 2), new Merkle.Range(4, 7));
    // Between hash1 (size 4) and hash: [l].
    assertThat(Merkle.consistencyPath(4, 7)).containsExactly(new Merkle.Range(4, 7));
    // Between hash2 (size 6) and hash: [i, j, k] = [4,6), [6,7), [0,4).
    assertThat(Merkle.consistencyPath(6, 7))
        .containsExactly(new Merkle.Range(4, 6), new Merkle.Range(6, 7), new Merkle.Range(0, 4));
    assertThat(Merkle.consistencyPath(0, 7)).isEmpty();
    assertThat(Merkle.consistencyPath(7, 7)).isEmpty();
    assertThat(Merkle.inclusionPath(0, 1)).isEmpty();
    assertThatThrownBy(() -> Merkle.inclusionPath(7, 7)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Merkle.consistencyPath(8, 7)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Merkle.Range(3, 2)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void compactRangeReportsEveryCompletedNodeAndChecksItsFrontier() {
    CompactRange range = CompactRange.empty();
    byte[][] leaves = new byte[8][];
    for (int i = 0; i < 8; i++) {
      leaves[i] = Merkle.leafHash(new byte[] {(byte) i});
    }
    for (int i = 0; i < 7; i++) {
      range.append(leaves[i]);
    }
    List<CompactRange.Node> completed = range.append(leaves[7]);
    assertThat(completed).extracting(CompactRange.Node::level, CompactRange.Node::index)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(0, 7L), org.assertj.core.groups.Tuple.tuple(1, 3L),
            org.assertj.core.groups.Tuple.tuple(2, 1L), org.assertj.core.groups.Tuple.tuple(3, 0L));
    assertThat(completed.getLast().hash()).isEqualTo(range.root());
    assertThat(range.frontier()).hasSize(1);

    // A range restored from a frontier continues as the original does.
    CompactRange seven = new CompactRange(7, frontierOf(leaves, 7));
    seven.append(leaves[7]);
    assertThat(seven.root()).isEqualTo(range.root());

    assertThatThrownBy(() -> new CompactRange(7, List.of(leaves[0])))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 frontier hashes, got 1");
    assertThatThrownBy(() -> new CompactRange(1, List.of(new byte[31]))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> range.append(new byte[5])).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new MemoryTree().node(0, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  private static List<byte[]> frontierOf(byte[][] leaves, int n) {
    CompactRange range = CompactRange.empty();
    for (int i = 0; i < n; i++) {
      range.append(leaves[i]);
    }
    return range.frontier();
  }

  private static List<Integer> someBelow(Random random, int n) {
    TreeSet<Integer> picks = new TreeSet<>(List.of(0, n - 1, n / 2));
    for (int i = 0; i < 3; i++) {
      picks.add(random.nextInt(n));
    }
    return new ArrayList<>(picks);
  }

  static byte[] flip(byte[] bytes, int at) {
    byte[] copy = bytes.clone();
    copy[at % copy.length] ^= 1;
    return copy;
  }
}
