package net.aitbc.grid.ops.bench;

import static net.aitbc.grid.db.Tables.JOB;
import static net.aitbc.grid.db.Tables.PAYMENT;

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.AccountStore;
import net.aitbc.grid.coordinator.store.Database;
import net.aitbc.grid.coordinator.store.KeyStore;
import net.aitbc.grid.db.enums.Currency;
import net.aitbc.grid.db.enums.JobState;
import net.aitbc.grid.db.enums.PaymentStatus;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * The benchmark's own database on the given server: dropped and created at each run (as the
 * peers recreate theirs), migrated, with one unlimited client key and one worker key.
 */
final class BenchDatabase implements AutoCloseable {
  /**
   * The server settings the peers record with each run (common.js serverInfo), plus autovacuum:
   * some machines turn it off, and then tables are never analyzed.
   */
  private static final List<String> SETTINGS = List.of("server_version", "synchronous_commit", "fsync", "wal_level",
      "shared_buffers", "max_wal_size", "checkpoint_timeout", "max_connections", "wal_sync_method", "commit_delay",
      "autovacuum");

  /** The client id of the benchmark's client key. */
  static final String CLIENT_ID = "bench-client";

  private final String name;
  private final String url;
  private final Connection server;
  private String clientKey = "";
  private String workerKey = "";
  /** The jobs a reused database held before the run, left out of {@link #counts}. */
  private Counts before = new Counts(0, 0, 0);

  private BenchDatabase(String serverUrl, String name) throws SQLException {
    this.name = name;
    int query = serverUrl.indexOf('?');
    String base = query < 0 ? serverUrl : serverUrl.substring(0, query);
    String params = query < 0 ? "" : serverUrl.substring(query);
    this.url = base.substring(0, base.lastIndexOf('/') + 1) + name + params;
    // One connection to the server's own database, held for CHECKPOINTs between phases.
    this.server = DriverManager.getConnection(serverUrl);
  }

  private static BenchDatabase open(String serverUrl, String name) {
    try {
      return new BenchDatabase(serverUrl, name);
    } catch (SQLException e) {
      throw new IllegalStateException("the benchmark needs PostgreSQL at " + serverUrl + " (--db-url): " + e.getMessage(), e);
    }
  }

  /** Drops {@code name} on the server at {@code serverUrl} (ending its sessions first), creates it, migrates it, adds keys. */
  static BenchDatabase recreate(String serverUrl, String name) {
    BenchDatabase db = open(serverUrl, name);
    DSLContext dsl = db.serverDsl();
    // Sessions left by a coordinator that was killed would make DROP DATABASE fail.
    dsl.select(DSL.function(DSL.name("pg_terminate_backend"), Boolean.class, DSL.field(DSL.name("pid"))))
        .from(DSL.table(DSL.name("pg_catalog", "pg_stat_activity")))
        .where(DSL.field(DSL.name("datname"), String.class).eq(name))
        .fetch();
    dsl.dropDatabaseIfExists(name).execute();
    dsl.createDatabase(name).execute();
    return db.prepared();
  }

  /** Uses {@code name} on the server at {@code serverUrl} as it is (creating it if missing), migrates it, adds keys. */
  static BenchDatabase reuse(String serverUrl, String name) {
    BenchDatabase db = open(serverUrl, name);
    DSLContext dsl = db.serverDsl();
    if (!dsl.fetchExists(DSL.selectOne().from(DSL.table(DSL.name("pg_catalog", "pg_database")))
        .where(DSL.field(DSL.name("datname"), String.class).eq(name)))) {
      dsl.createDatabase(name).execute();
    }
    db.prepared();
    db.before = db.counts();
    return db;
  }

  private BenchDatabase prepared() {
    BenchDatabase db = this;
    try (var ds = Database.pool(db.url, null, null, 2)) {
      Database.migrate(ds);
      KeyStore keys = new KeyStore(Database.dsl(ds));
      ApiKeys generator = new ApiKeys();
      db.clientKey = generator.generate(Role.CLIENT);
      // No rate limit and no queue cap of its own: the benchmark measures throughput, not admission.
      keys.add(db.clientKey, Role.CLIENT, CLIENT_ID, new KeyLimits(1, 0.0, null, null));
      db.workerKey = generator.generate(Role.WORKER);
      keys.add(db.workerKey, Role.WORKER, "bench-workers", KeyLimits.DEFAULT);
    }
    return db;
  }

  private DSLContext serverDsl() {
    return DSL.using(server, SQLDialect.POSTGRES);
  }

  /** The JDBC URL of the benchmark's database. */
  String url() {
    return url;
  }

  /** Its name. */
  String name() {
    return name;
  }

  /** The unlimited client key. */
  String clientKey() {
    return clientKey;
  }

  /** The worker key. */
  String workerKey() {
    return workerKey;
  }

  /** A new worker key of {@code owner} without a call rate limit (REST miners make two calls per job). */
  String addWorkerKey(String owner) {
    String key = new ApiKeys().generate(Role.WORKER);
    try (var ds = Database.pool(url, null, null, 1)) {
      new KeyStore(Database.dsl(ds)).add(key, Role.WORKER, owner, new KeyLimits(1, 0.0, null, null));
    }
    return key;
  }

  /**
   * Flushes dirty buffers so that a checkpoint is less likely to land inside the next phase
   * (common.js checkpoint). jOOQ has no CHECKPOINT statement, hence plain JDBC.
   */
  void checkpoint() {
    try (Statement s = server.createStatement()) {
      s.execute("CHECKPOINT");
    } catch (SQLException e) {
      throw new IllegalStateException("CHECKPOINT failed: " + e.getMessage(), e);
    }
  }

  /** The server's version and durability settings, as the peers record them. */
  Map<String, String> serverSettings() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String s : SETTINGS) {
      out.put(s, serverDsl().fetchValue(DSL.function(DSL.name("current_setting"), String.class, DSL.inline(s))));
    }
    return out;
  }

  /** Jobs in the database: all, completed, and not yet finished. */
  record Counts(long all, long completed, long unfinished) {}

  /** Counts the jobs now (less those a reused database held before). */
  Counts counts() {
    try (Connection c = DriverManager.getConnection(url)) {
      DSLContext dsl = DSL.using(c, SQLDialect.POSTGRES);
      return new Counts(dsl.fetchCount(JOB) - before.all(),
          dsl.fetchCount(JOB, JOB.STATE.eq(JobState.COMPLETED)) - before.completed(),
          dsl.fetchCount(JOB, JOB.STATE.in(JobState.QUEUED, JobState.RUNNING)) - before.unfinished());
    } catch (SQLException e) {
      throw new IllegalStateException("cannot count jobs in " + url + ": " + e.getMessage(), e);
    }
  }

  /** Credits the bench client's account, as an admin's deposit does; returns its balance after. */
  BigDecimal fund(BigDecimal amount, Currency currency) {
    try (var ds = Database.pool(url, null, null, 1)) {
      return new AccountStore(Database.dsl(ds)).deposit(CLIENT_ID, amount, currency, "bench-" + UUID.randomUUID())
          .balance();
    }
  }

  /** Payments in the database by status. */
  Map<PaymentStatus, Integer> payments() {
    try (Connection c = DriverManager.getConnection(url)) {
      return DSL.using(c, SQLDialect.POSTGRES).select(PAYMENT.STATUS, DSL.count()).from(PAYMENT)
          .groupBy(PAYMENT.STATUS).fetchMap(PAYMENT.STATUS, DSL.count());
    } catch (SQLException e) {
      throw new IllegalStateException("cannot count payments in " + url + ": " + e.getMessage(), e);
    }
  }

  /** Drops the database (its sessions must be gone). */
  void drop() {
    serverDsl().dropDatabaseIfExists(name).execute();
  }

  @Override
  public void close() {
    try {
      server.close();
    } catch (SQLException e) {
      // Nothing is left to do with it.
    }
  }
}
