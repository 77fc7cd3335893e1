package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.RESULT_CACHE;
import static org.jooq.impl.DSL.currentOffsetDateTime;
import static org.jooq.impl.DSL.select;
import static org.jooq.impl.DSL.sum;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.ledger.CanonicalJson;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.JSONB;
import org.jooq.Table;
import org.jooq.types.DayToSecond;
import org.jspecify.annotations.Nullable;

/**
 * A content-addressed cache of the results of deterministic jobs (issue 15), as Bazel's remote
 * action cache is: the key is SHA-256 over the canonical JSON of the job's type, model and payload
 * (sorted keys, the payload's {@code cache} field left out), so an identical job is answered at
 * submission with the result stored when the first one completed. Only {@link #DETERMINISTIC}
 * types are cached; an {@code embedding} job only when it names its model (without one, each
 * worker picks its own default, and the results differ); a payload with {@code "cache": false}
 * neither reads nor fills the cache. Entries expire by age and, past a size bound, least recently
 * hit first, in a sweep that any number of replicas may run at once (database clock, plain deletes).
 */
public final class ResultCache {
  /** The job types whose result depends on nothing but their type, model and payload. */
  public static final Set<String> DETERMINISTIC = Set.of("embedding", "noop");

  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private final DSLContext dsl;
  private final Policy policy;
  private final Columns columns = new Columns();

  /** A cache over this database under {@code policy}. */
  public ResultCache(DSLContext dsl, Policy policy) {
    this.dsl = requireNonNull(dsl, "dsl");
    this.policy = requireNonNull(policy, "policy");
  }

  /**
   * How long entries live and how much they may hold.
   *
   * @param ttl an entry's age limit; zero turns the cache off
   * @param maxBytes the most bytes of results the cache holds (the least recently hit go first)
   */
  public record Policy(Duration ttl, long maxBytes) {
    /** No cache at all. */
    public static final Policy OFF = new Policy(Duration.ZERO, 0);

    /** Checks the values. */
    public Policy {
      requireNonNull(ttl, "ttl");
      if (ttl.isNegative()) {
        throw new IllegalArgumentException("the result cache TTL must not be negative, not " + ttl);
      }
      if (maxBytes < 0) {
        throw new IllegalArgumentException("the result cache size must not be negative, not " + maxBytes);
      }
    }

    /** Whether results are cached at all. */
    public boolean on() {
      return ttl.isPositive() && maxBytes > 0;
    }
  }

  /**
   * A stored result.
   *
   * @param resultJson the result, as the job that filled the entry completed with it
   * @param sourceJobId that job
   */
  public record Hit(String resultJson, UUID sourceJobId) {}

  /** The policy it runs under. */
  public Policy policy() {
    return policy;
  }

  /**
   * The cache key of a job, or null when its result is not cached: a type not {@link #DETERMINISTIC},
   * an embedding without a model, or a payload that says {@code "cache": false}.
   */
  public static byte @Nullable [] key(String type, @Nullable String model, String payloadJson) {
    if (!DETERMINISTIC.contains(type) || (type.equals("embedding") && model == null)) {
      return null;
    }
    JsonNode payload;
    try {
      payload = CanonicalJson.parse(payloadJson);
    } catch (IllegalArgumentException e) {
      return null;
    }
    if (!(payload instanceof ObjectNode o)) {
      return null;
    }
    JsonNode cache = o.get("cache");
    if (cache != null && cache.isBoolean() && !cache.booleanValue()) {
      return null;
    }
    ObjectNode keyed = o.deepCopy();
    // An opt-in says nothing of the work: with it or without, the job is the same.
    keyed.remove("cache");
    // The model is keyed as the coordinator reads it (lower case), not as the client spelled it.
    keyed.remove("model");
    ObjectNode key = JSON.objectNode();
    key.put("type", type);
    key.put("model", model == null ? "" : model);
    key.set("payload", keyed);
    try {
      return CanonicalJson.sha256(CanonicalJson.bytes(key));
    } catch (IllegalArgumentException e) {
      // A number canonical JSON cannot write (NaN is no JSON, but a huge exponent may be): no key.
      return null;
    }
  }

  /**
   * The key of a new job, when it may be answered from the cache. A swarm's member job never is (it
   * probes its worker), nor a workflow's step job: its execution advances as its outcome is recorded,
   * which a job stored completed at submission never has.
   */
  @Nullable
  byte[] keyOf(NewJob j) {
    if (!policy.on() || j.pin() != null || j.executionId() != null) {
      return null;
    }
    return key(j.type(), j.model(), j.payloadJson());
  }

  /**
   * Looks the keys up in one query and answers the live entries found, by key; counts a hit on each
   * entry that no other transaction is counting one on right now (hits and the last hit time are
   * for the size bound, so skipping a locked entry costs nothing but a count).
   */
  Map<ByteBuffer, Hit> lookup(DSLContext tx, Set<ByteBuffer> keys) {
    if (keys.isEmpty() || !policy.on()) {
      return Map.of();
    }
    byte[][] wanted = keys.stream().map(ResultCache::bytes).toArray(byte[][]::new);
    Map<ByteBuffer, Hit> found = new HashMap<>();
    tx.select(RESULT_CACHE.CACHE_KEY, RESULT_CACHE.RESULT, RESULT_CACHE.SOURCE_JOB_ID)
        .from(RESULT_CACHE)
        .where(RESULT_CACHE.CACHE_KEY.in(Arrays.asList(wanted)), live())
        .forEach(r -> found.put(ByteBuffer.wrap(r.value1()), new Hit(r.value2().data(), r.value3())));
    if (!found.isEmpty()) {
      byte[][] hit = found.keySet().stream().map(ResultCache::bytes).toArray(byte[][]::new);
      tx.update(RESULT_CACHE)
          .set(RESULT_CACHE.HITS, RESULT_CACHE.HITS.plus(1))
          .set(RESULT_CACHE.LAST_HIT_AT, currentOffsetDateTime())
          .where(RESULT_CACHE.CACHE_KEY.in(select(RESULT_CACHE.CACHE_KEY).from(RESULT_CACHE)
              .where(RESULT_CACHE.CACHE_KEY.in(Arrays.asList(hit))).forUpdate().skipLocked()))
          .execute();
    }
    return found;
  }

  /**
   * An entry to fill.
   *
   * @param key its key
   * @param type the job type
   * @param model the model, or null
   * @param resultJson the result
   * @param sourceJobId the job that completed with it
   */
  record Entry(byte[] key, String type, @Nullable String model, String resultJson, UUID sourceJobId) {}

  /**
   * Stores entries in one statement; a key stored already keeps its first result (the same work has
   * the same answer). Keys are inserted in one order, so that two batches never wait on each other
   * in a cycle.
   */
  void fill(DSLContext tx, List<Entry> entries) {
    if (entries.isEmpty() || !policy.on()) {
      return;
    }
    Map<ByteBuffer, Entry> byKey = new LinkedHashMap<>();
    for (Entry e : entries) {
      byKey.putIfAbsent(ByteBuffer.wrap(e.key()), e);
    }
    List<Entry> sorted = new ArrayList<>(byKey.values());
    sorted.sort(Comparator.comparing(e -> ByteBuffer.wrap(e.key())));
    int n = sorted.size();
    byte[][] keys = new byte[n][];
    String[] types = new String[n];
    String[] models = new String[n];
    JSONB[] results = new JSONB[n];
    UUID[] sources = new UUID[n];
    Integer[] sizes = new Integer[n];
    for (int i = 0; i < n; i++) {
      Entry e = sorted.get(i);
      keys[i] = e.key();
      types[i] = e.type();
      models[i] = e.model() == null ? "" : e.model();
      results[i] = JSONB.valueOf(e.resultJson());
      sources[i] = e.sourceJobId();
      sizes[i] = e.resultJson().getBytes(StandardCharsets.UTF_8).length;
    }
    Columns c = columns;
    tx.insertInto(RESULT_CACHE, RESULT_CACHE.CACHE_KEY, RESULT_CACHE.TYPE, RESULT_CACHE.MODEL, RESULT_CACHE.RESULT,
            RESULT_CACHE.SOURCE_JOB_ID, RESULT_CACHE.SIZE_BYTES)
        .select(select(c.each(keys, RESULT_CACHE.CACHE_KEY), c.each(types, RESULT_CACHE.TYPE),
            c.each(models, RESULT_CACHE.MODEL), c.each(results, RESULT_CACHE.RESULT),
            c.each(sources, RESULT_CACHE.SOURCE_JOB_ID), c.each(sizes, RESULT_CACHE.SIZE_BYTES)))
        .onConflict(RESULT_CACHE.CACHE_KEY).doNothing()
        .execute();
  }

  /**
   * Deletes the entries older than the TTL, then, while the rest hold more than the size bound, the
   * least recently hit; returns how many went. Safe with replicas sweeping at once: ages are the
   * database's, and a delete of what another already deleted deletes nothing.
   */
  public int sweep() {
    if (!policy.on()) {
      // Off here: a replica that has it on sweeps by its own policy.
      return 0;
    }
    int aged = dsl.deleteFrom(RESULT_CACHE).where(RESULT_CACHE.CREATED_AT.le(
        currentOffsetDateTime().minus(DayToSecond.valueOf(policy.ttl())))).execute();
    Field<BigDecimal> running = sum(RESULT_CACHE.SIZE_BYTES)
        .over().orderBy(RESULT_CACHE.LAST_HIT_AT.desc(), RESULT_CACHE.CACHE_KEY).as("running");
    Table<?> ranked = select(RESULT_CACHE.CACHE_KEY, running).from(RESULT_CACHE).asTable("ranked");
    int evicted = dsl.deleteFrom(RESULT_CACHE)
        .where(RESULT_CACHE.CACHE_KEY.in(select(ranked.field(RESULT_CACHE.CACHE_KEY)).from(ranked)
            .where(ranked.field(running).gt(BigDecimal.valueOf(policy.maxBytes())))))
        .execute();
    return aged + evicted;
  }

  /** Entries younger than the TTL (the sweep may not have run since the others aged). */
  private org.jooq.Condition live() {
    return RESULT_CACHE.CREATED_AT.gt(currentOffsetDateTime().minus(DayToSecond.valueOf(policy.ttl())));
  }

  private static byte[] bytes(ByteBuffer b) {
    return b.array();
  }
}
