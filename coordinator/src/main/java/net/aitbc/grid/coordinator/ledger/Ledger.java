package net.aitbc.grid.coordinator.ledger;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.aitbc.grid.coordinator.store.LedgerStore;
import net.aitbc.grid.coordinator.store.LedgerStore.NodeKey;
import net.aitbc.grid.coordinator.store.ReceiptStore;
import net.aitbc.grid.coordinator.store.StoredBlock;
import net.aitbc.grid.coordinator.store.StoredReceipt;
import net.aitbc.grid.ledger.B64;
import net.aitbc.grid.ledger.Blocks;
import net.aitbc.grid.ledger.CanonicalJson;
import net.aitbc.grid.ledger.Merkle;
import net.aitbc.grid.ledger.Signatures;
import net.aitbc.grid.ledger.SigningKey;
import net.aitbc.grid.ledger.VerifyingKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's side of the ledger: signs receipts (when first read: Ed25519 is deterministic,
 * so the signature is the same whenever it is made, and the completion path does not pay for it),
 * signs block headers, and builds proofs from the stored perfect subtrees.
 */
public final class Ledger {
  private static final Logger logger = LoggerFactory.getLogger(Ledger.class);

  private final SigningKey key;
  private final ReceiptStore receipts;
  private final LedgerStore store;

  /** The ledger over these stores, signed with {@code key}. */
  public Ledger(SigningKey key, ReceiptStore receipts, LedgerStore store) {
    this.key = requireNonNull(key, "key");
    this.receipts = requireNonNull(receipts, "receipts");
    this.store = requireNonNull(store, "store");
  }

  /** The coordinator's key id (base64url public key). */
  public String keyId() {
    return key.keyId();
  }

  /** The coordinator's public key. */
  public VerifyingKey verifyingKey() {
    return key.verifyingKey();
  }

  /** The signed receipt, canonical JSON; signs it (and keeps the signature) if it is not yet. */
  public String signed(StoredReceipt r) {
    byte[] signature = r.signature();
    if (signature == null) {
      signature = key.sign(r.body().getBytes(StandardCharsets.UTF_8));
      try {
        receipts.saveSignature(r.receiptId(), signature);
      } catch (RuntimeException e) {
        // Signing again later gives the same bytes: nothing is lost but the time.
        logger.debug("could not keep the signature of receipt {}: {}", r.receiptId(), e.toString());
      }
    }
    ObjectNode doc = (ObjectNode) CanonicalJson.parse(r.body());
    ObjectNode sig = doc.putObject("signature");
    sig.put("alg", "Ed25519");
    sig.put("key_id", key.keyId());
    sig.put("sig", B64.encode(signature));
    return CanonicalJson.write(doc);
  }

  /** A sealed block. */
  public Optional<StoredBlock> block(long height) {
    return store.block(height);
  }

  /** Signs a block header (the sealer's signer). */
  public LedgerStore.SignedHeader signHeader(long height, byte[] prevHash, long treeSize, byte[] root, int count,
      long timestampMillis) {
    ObjectNode header = Blocks.header(height, prevHash, treeSize, root, count, timestampMillis, key.keyId());
    ObjectNode signed = Signatures.sign(header, key);
    return new LedgerStore.SignedHeader(Blocks.hash(header), key.keyId(), CanonicalJson.write(signed));
  }

  /**
   * An inclusion proof.
   *
   * @param leafIndex the receipt's leaf
   * @param block the block whose tree it is proved against
   * @param hashes the audit path
   */
  public record Inclusion(long leafIndex, StoredBlock block, List<byte[]> hashes) {}

  /**
   * Proves that a sealed receipt is in the tree of block {@code treeSize} (0: the latest block).
   *
   * @throws IllegalArgumentException naming what is wrong: not sealed yet, no block of that size,
   *     or a tree sealed before the receipt
   */
  public Inclusion inclusion(StoredReceipt r, long treeSize) {
    if (r.blockHeight() == null) {
      throw new NotSealed("receipt not sealed yet");
    }
    long index = r.leafIndex();
    StoredBlock block = blockOfSize(treeSize);
    if (index >= block.treeSize()) {
      throw new IllegalArgumentException("the receipt was sealed after block " + block.height()
          + " (leaf " + index + ", tree size " + block.treeSize() + ")");
    }
    return new Inclusion(index, block, proof(Merkle.inclusionPath(index, block.treeSize())));
  }

  /**
   * Proves that the tree of {@code second} leaves (a block's) extends the tree of {@code first}.
   *
   * @throws IllegalArgumentException when the sizes are out of order or second is no block's
   */
  public List<byte[]> consistency(long first, long second) {
    if (first < 0 || first > second) {
      throw new IllegalArgumentException("first_size must be between 0 and second_size");
    }
    blockOfSize(second);
    return proof(Merkle.consistencyPath(first, second));
  }

  private StoredBlock blockOfSize(long treeSize) {
    if (treeSize < 0) {
      throw new IllegalArgumentException("tree_size must not be negative");
    }
    if (treeSize == 0) {
      long height = store.head().height();
      if (height == 0) {
        throw new NotSealed("no block has been sealed yet");
      }
      return store.block(height).orElseThrow();
    }
    return store.blockOfSize(treeSize)
        .orElseThrow(() -> new IllegalArgumentException("tree size " + treeSize + " is not a block's"));
  }

  private List<byte[]> proof(List<Merkle.Range> path) {
    Set<NodeKey> keys = new LinkedHashSet<>();
    for (Merkle.Range range : path) {
      for (Merkle.Range part : Merkle.perfectParts(range)) {
        keys.addAll(storedBelow(key(part)));
      }
    }
    Map<NodeKey, byte[]> nodes = store.nodes(keys);
    return new ArrayList<>(Merkle.proof(path, (level, index) -> node(nodes, new NodeKey(level, index))));
  }

  /** The stored nodes a node is made of: itself when its level is stored, else those of the stored level below. */
  private static List<NodeKey> storedBelow(NodeKey k) {
    if (LedgerStore.isStored(k.level())) {
      return List.of(k);
    }
    int down = k.level() % LedgerStore.LEVEL_STRIDE;
    List<NodeKey> parts = new ArrayList<>(1 << down);
    for (long i = k.index() << down; i < (k.index() + 1) << down; i++) {
      parts.add(new NodeKey(k.level() - down, i));
    }
    return parts;
  }

  private static byte[] node(Map<NodeKey, byte[]> nodes, NodeKey k) {
    List<NodeKey> parts = storedBelow(k);
    List<byte[]> hashes = new ArrayList<>(parts.size());
    for (NodeKey part : parts) {
      byte[] hash = nodes.get(part);
      if (hash == null) {
        throw new Damaged("the ledger lacks its node at level " + part.level() + ", index " + part.index()
            + (part.level() == 0 ? " (a receipt row)" : ""));
      }
      hashes.add(hash);
    }
    while (hashes.size() > 1) {
      List<byte[]> up = new ArrayList<>(hashes.size() / 2);
      for (int i = 0; i < hashes.size(); i += 2) {
        up.add(Merkle.nodeHash(hashes.get(i), hashes.get(i + 1)));
      }
      hashes = up;
    }
    return hashes.getFirst();
  }

  private static NodeKey key(Merkle.Range part) {
    int level = Long.numberOfTrailingZeros(part.size());
    return new NodeKey(level, part.from() >> level);
  }

  /** The stored ledger lacks what a sealed block covers: rows were deleted behind its back. */
  public static final class Damaged extends RuntimeException {
    Damaged(String message) {
      super(message, null, false, false);
    }
  }

  /** A receipt or block the ledger does not hold yet. */
  public static final class NotSealed extends RuntimeException {
    NotSealed(String message) {
      super(message, null, false, false);
    }
  }
}
