package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.API_KEY;

import java.time.OffsetDateTime;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import net.aitbc.grid.coordinator.auth.ApiKeys;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.db.enums.KeyRole;
import net.aitbc.grid.db.tables.records.ApiKeyRecord;
import org.jooq.DSLContext;
import org.jooq.Record1;

/** API keys, stored as hashes with their role and client id. */
public final class KeyStore {
  private final DSLContext dsl;

  /** A store over this database. */
  public KeyStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /** Stores a key's hash for a role and client id; a key that is already stored is left as it is. */
  public void add(String key, Role role, String clientId, KeyLimits limits) {
    byte[] hash = ApiKeys.hash(key);
    dsl.insertInto(API_KEY)
        .set(API_KEY.KEY_HASH, hash)
        .set(API_KEY.KEY_ID, ApiKeys.id(hash))
        .set(API_KEY.KEY_PREFIX, ApiKeys.prefix(key))
        .set(API_KEY.ROLE, toDb(role))
        .set(API_KEY.CLIENT_ID, clientId)
        .set(API_KEY.WEIGHT, limits.weight())
        .set(API_KEY.RATE_PER_SEC, limits.ratePerSec())
        .set(API_KEY.BURST, limits.burst())
        .set(API_KEY.MAX_QUEUED, limits.maxQueued())
        .onConflictDoNothing()
        .execute();
  }

  /** The principal of a key that exists and is not revoked. */
  public Optional<Principal> find(byte[] keyHash) {
    return dsl.selectFrom(API_KEY)
        .where(API_KEY.KEY_HASH.eq(keyHash).and(API_KEY.REVOKED_AT.isNull()))
        .fetchOptional(r -> new Principal(r.getClientId(), fromDb(r.getRole()), ApiKeys.id(keyHash), limits(r)));
  }

  /** The principal of the active key with this id (as {@link #list} shows it). */
  public Optional<Principal> findById(String keyId) {
    return dsl.selectFrom(API_KEY)
        .where(API_KEY.KEY_ID.eq(keyId).and(API_KEY.REVOKED_AT.isNull()))
        .fetchOptional(KeyStore::principal);
  }

  /** The principal of a stored key's row (read with its key id). */
  static Principal principal(ApiKeyRecord r) {
    return new Principal(r.getClientId(), fromDb(r.getRole()), r.getKeyId(), limits(r));
  }

  /** Revokes the key with this id (as {@link #list} shows it); false when no active key has it. */
  public boolean revoke(String keyId) {
    return dsl.update(API_KEY)
        .set(API_KEY.REVOKED_AT, OffsetDateTime.now())
        .where(API_KEY.KEY_ID.eq(keyId).and(API_KEY.REVOKED_AT.isNull()))
        .execute() == 1;
  }

  /** Which of these key ids no longer name an active key (revoked, or gone). */
  public Set<String> inactive(Collection<String> keyIds) {
    if (keyIds.isEmpty()) {
      return Set.of();
    }
    Set<String> active = new HashSet<>(dsl.select(API_KEY.KEY_ID).from(API_KEY)
        .where(API_KEY.KEY_ID.in(keyIds).and(API_KEY.REVOKED_AT.isNull()))
        .fetch(Record1::value1));
    Set<String> out = new HashSet<>(keyIds);
    out.removeAll(active);
    return out;
  }

  /** Lists keys (id, prefix, role, client id, created, revoked), newest first. */
  public List<KeyInfo> list() {
    return dsl.selectFrom(API_KEY)
        .orderBy(API_KEY.CREATED_AT.desc())
        .fetch(r -> new KeyInfo(r.getKeyId(), r.getKeyPrefix(), fromDb(r.getRole()), r.getClientId(), limits(r),
            r.getCreatedAt(), r.getRevokedAt()));
  }

  /**
   * What is known about a key without the key itself.
   *
   * @param id the key's unambiguous id: the first 16 hex characters of its hash
   * @param prefix the key's first characters
   * @param role what the key may do
   * @param clientId the id it acts as
   * @param limits what it may use
   * @param createdAt when it was made
   * @param revokedAt when it was revoked, or null
   */
  public record KeyInfo(String id, String prefix, Role role, String clientId, KeyLimits limits, OffsetDateTime createdAt,
      @org.jspecify.annotations.Nullable OffsetDateTime revokedAt) {}

  private static KeyLimits limits(ApiKeyRecord r) {
    return new KeyLimits(r.getWeight(), r.getRatePerSec(), r.getBurst(), r.getMaxQueued());
  }

  private static KeyRole toDb(Role role) {
    return switch (role) {
      case CLIENT -> KeyRole.client;
      case WORKER -> KeyRole.worker;
      case ADMIN -> KeyRole.admin;
    };
  }

  private static Role fromDb(KeyRole role) {
    return switch (role) {
      case client -> Role.CLIENT;
      case worker -> Role.WORKER;
      case admin -> Role.ADMIN;
    };
  }
}
