package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.BLOCK;
import static net.aitbc.grid.db.Tables.LEDGER_HEAD;
import static net.aitbc.grid.db.Tables.LEDGER_ISSUED;
import static net.aitbc.grid.db.Tables.LEDGER_NODE;
import static net.aitbc.grid.db.Tables.RECEIPT;
import static org.jooq.impl.DSL.row;
import static org.jooq.impl.DSL.select;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import net.aitbc.grid.db.tables.records.LedgerHeadRecord;
import net.aitbc.grid.ledger.CompactRange;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.Row2;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger: sealing receipts into blocks, and what proofs and audits read. Sealing locks the one
 * head row, so blocks form a single chain however many coordinators share the database, and a
 * block, its leaves and the head move together or not at all.
 */
public final class LedgerStore {
  private static final Logger logger = LoggerFactory.getLogger(LedgerStore.class);
  /**
   * Perfect subtrees are stored at the levels that are multiples of this (level 0, the leaves, in the
   * receipts' rows; the others as node rows, about 0.07 per leaf): a node between stored levels is
   * at most 8 stored ones away.
   */
  public static final int LEVEL_STRIDE = 4;

  private final DSLContext dsl;
  private final Columns columns = new Columns();

  /** A store over this database. */
  public LedgerStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /** Signs a block header; the ledger's rules, outside the store. */
  @FunctionalInterface
  public interface BlockSigner {
    /** The signed header of a block with these values. */
    SignedHeader sign(long height, byte[] prevHash, long treeSize, byte[] root, int count, long timestampMillis);
  }

  /**
   * A signed header.
   *
   * @param hash its hash (SHA-256 of the canonical header without the signature)
   * @param keyId the signing key's id
   * @param json the signed header, canonical JSON
   */
  public record SignedHeader(byte[] hash, String keyId, String json) {}

  /**
   * The ledger's head.
   *
   * @param height the latest block (0 before the first)
   * @param hash its hash (zeros before the first)
   * @param treeSize leaves sealed
   * @param sealedAt when the latest block was sealed, or null
   */
  public record Head(long height, byte[] hash, long treeSize, @Nullable OffsetDateTime sealedAt) {}

  /**
   * Receipts not sealed yet.
   *
   * @param count how many
   * @param oldest when the oldest was issued, or null when none waits
   */
  public record Unsealed(long count, @Nullable OffsetDateTime oldest) {}

  /**
   * A sealed leaf: the receipt stored at its index now.
   *
   * @param index its index
   * @param leafHash the leaf hash stored with the receipt when it was issued
   * @param receiptId the receipt
   * @param body the receipt's stored body
   */
  public record Leaf(long index, byte[] leafHash, UUID receiptId, String body) {}

  /** A perfect subtree: {@code level} k and {@code index} i cover leaves [i*2^k, (i+1)*2^k). */
  public record NodeKey(int level, long index) {}

  /**
   * Seals the oldest unsealed receipts (at most {@code max}) into the next block, in one transaction.
   * Returns the block, or empty when nothing waits.
   */
  public Optional<StoredBlock> seal(int max, BlockSigner signer) {
    return Database.transaction(dsl, tx -> {
      LedgerHeadRecord head = tx.selectFrom(LEDGER_HEAD).forUpdate().fetchSingle();
      long from = head.getTreeSize();
      // Indexes are issued densely and committed in order, so what follows the tree is its next leaves.
      var pending = tx.select(RECEIPT.LEAF_IDX, RECEIPT.LEAF_HASH).from(RECEIPT)
          .where(RECEIPT.LEAF_IDX.between(from, from + max - 1))
          .orderBy(RECEIPT.LEAF_IDX)
          .fetch();
      if (pending.isEmpty()) {
        return Optional.empty();
      }
      CompactRange tree = new CompactRange(from, Arrays.asList(head.getFrontier()));
      List<CompactRange.Node> nodes = new ArrayList<>(pending.size() / 8 + 4);
      for (var leaf : pending) {
        if (leaf.value1() != tree.size()) {
          // Only a receipt deleted by hand makes a hole; seal up to it, and say so every time.
          logger.error("the ledger lacks receipt leaf {}: sealing stops there", tree.size());
          break;
        }
        for (CompactRange.Node node : tree.append(leaf.value2())) {
          if (node.level() > 0 && isStored(node.level())) {
            nodes.add(node);
          }
        }
      }
      int n = Math.toIntExact(tree.size() - from);
      if (n == 0) {
        return Optional.empty();
      }
      insertNodes(tx, nodes);

      long height = head.getHeight() + 1;
      OffsetDateTime now = JobStore.now();
      // A block is never dated before the one it follows, whatever the clocks of coordinators say.
      if (head.getSealedAt() != null && now.isBefore(head.getSealedAt())) {
        now = head.getSealedAt();
      }
      SignedHeader header = signer.sign(height, head.getHash(), tree.size(), tree.root(), n,
          now.toInstant().toEpochMilli());
      StoredBlock block = new StoredBlock(height, header.hash(), head.getHash(), tree.size(), tree.root(), n, now,
          header.keyId(), header.json());
      tx.insertInto(BLOCK).set(BLOCK.HEIGHT, height).set(BLOCK.HASH, block.hash()).set(BLOCK.PREV_HASH, block.prevHash())
          .set(BLOCK.TREE_SIZE, block.treeSize()).set(BLOCK.ROOT, block.root()).set(BLOCK.RECEIPT_COUNT, n)
          .set(BLOCK.SEALED_AT, now).set(BLOCK.KEY_ID, block.keyId()).set(BLOCK.HEADER, block.header())
          .execute();
      tx.update(LEDGER_HEAD).set(LEDGER_HEAD.HEIGHT, height).set(LEDGER_HEAD.HASH, block.hash())
          .set(LEDGER_HEAD.TREE_SIZE, tree.size()).set(LEDGER_HEAD.FRONTIER, tree.frontier().toArray(byte[][]::new))
          .set(LEDGER_HEAD.SEALED_AT, now)
          .execute();
      return Optional.of(block);
    });
  }

  private void insertNodes(DSLContext tx, List<CompactRange.Node> nodes) {
    if (nodes.isEmpty()) {
      return;
    }
    int n = nodes.size();
    Short[] levels = new Short[n];
    Long[] indexes = new Long[n];
    byte[][] hashes = new byte[n][];
    for (int i = 0; i < n; i++) {
      CompactRange.Node node = nodes.get(i);
      levels[i] = (short) node.level();
      indexes[i] = node.index();
      hashes[i] = node.hash();
    }
    Columns c = columns;
    tx.insertInto(LEDGER_NODE, LEDGER_NODE.LEVEL, LEDGER_NODE.IDX, LEDGER_NODE.HASH)
        .select(select(c.each(levels, LEDGER_NODE.LEVEL), c.each(indexes, LEDGER_NODE.IDX),
            c.each(hashes, LEDGER_NODE.HASH)))
        .execute();
  }

  /** Whether perfect subtrees of this level are stored. */
  public static boolean isStored(int level) {
    return level % LEVEL_STRIDE == 0;
  }

  /** The ledger's head. */
  public Head head() {
    LedgerHeadRecord h = dsl.selectFrom(LEDGER_HEAD).fetchSingle();
    return new Head(h.getHeight(), h.getHash(), h.getTreeSize(), h.getSealedAt());
  }

  /** How many receipts wait to be sealed, and since when. */
  public Unsealed unsealed() {
    return Database.transaction(dsl, tx -> {
      long issued = tx.select(LEDGER_ISSUED.LEAVES).from(LEDGER_ISSUED).fetchSingle().value1();
      long sealed = tx.select(LEDGER_HEAD.TREE_SIZE).from(LEDGER_HEAD).fetchSingle().value1();
      OffsetDateTime oldest = issued == sealed ? null : tx.select(RECEIPT.CREATED_AT).from(RECEIPT)
          .where(RECEIPT.LEAF_IDX.eq(sealed)).fetchOptional(RECEIPT.CREATED_AT).orElse(null);
      return new Unsealed(issued - sealed, oldest);
    });
  }

  /** Blocks, newest first. */
  public List<StoredBlock> blocks(int limit, int offset) {
    return dsl.selectFrom(BLOCK).orderBy(BLOCK.HEIGHT.desc()).limit(limit).offset(offset).fetch(LedgerStore::toBlock);
  }

  /** One block by height. */
  public Optional<StoredBlock> block(long height) {
    return dsl.selectFrom(BLOCK).where(BLOCK.HEIGHT.eq(height)).fetchOptional(LedgerStore::toBlock);
  }

  /** The block after which the ledger held exactly {@code treeSize} leaves. */
  public Optional<StoredBlock> blockOfSize(long treeSize) {
    return dsl.selectFrom(BLOCK).where(BLOCK.TREE_SIZE.eq(treeSize)).fetchOptional(LedgerStore::toBlock);
  }

  /** Stored perfect subtree hashes ({@link #isStored} levels), those that exist among {@code keys}. */
  public Map<NodeKey, byte[]> nodes(Collection<NodeKey> keys) {
    Map<NodeKey, byte[]> out = new HashMap<>();
    if (keys.isEmpty()) {
      return out;
    }
    List<Row2<Short, Long>> rows = new ArrayList<>(keys.size());
    List<Long> leaves = new ArrayList<>();
    for (NodeKey k : keys) {
      if (k.level() == 0) {
        leaves.add(k.index());
      } else {
        rows.add(row((short) k.level(), k.index()));
      }
    }
    if (!rows.isEmpty()) {
      dsl.select(LEDGER_NODE.LEVEL, LEDGER_NODE.IDX, LEDGER_NODE.HASH).from(LEDGER_NODE)
          .where(row(LEDGER_NODE.LEVEL, LEDGER_NODE.IDX).in(rows))
          .forEach(r -> out.put(new NodeKey(r.value1(), r.value2()), r.value3()));
    }
    if (!leaves.isEmpty()) {
      dsl.select(RECEIPT.LEAF_IDX, RECEIPT.LEAF_HASH).from(RECEIPT).where(RECEIPT.LEAF_IDX.in(leaves))
          .forEach(r -> out.put(new NodeKey(0, r.value1()), r.value2()));
    }
    return out;
  }

  /** Sealed leaves from {@code start}, in index order (a receipt deleted by hand leaves a hole). */
  public List<Leaf> leaves(long start, int limit) {
    return dsl.select(RECEIPT.LEAF_IDX, RECEIPT.LEAF_HASH, RECEIPT.RECEIPT_ID, RECEIPT.BODY)
        .from(RECEIPT)
        .where(RECEIPT.LEAF_IDX.ge(start), RECEIPT.LEAF_IDX.lt(select(LEDGER_HEAD.TREE_SIZE).from(LEDGER_HEAD)))
        .orderBy(RECEIPT.LEAF_IDX)
        .limit(limit)
        .fetch(r -> new Leaf(r.value1(), r.value2(), r.value3(), r.value4()));
  }

  private static StoredBlock toBlock(Record r) {
    return new StoredBlock(r.get(BLOCK.HEIGHT), r.get(BLOCK.HASH), r.get(BLOCK.PREV_HASH), r.get(BLOCK.TREE_SIZE),
        r.get(BLOCK.ROOT), r.get(BLOCK.RECEIPT_COUNT), r.get(BLOCK.SEALED_AT), r.get(BLOCK.KEY_ID), r.get(BLOCK.HEADER));
  }
}
