package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.SWARM;
import static net.aitbc.grid.db.Tables.SWARM_MEMBER;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;

import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.db.enums.KeyRole;
import net.aitbc.grid.db.tables.records.SwarmMemberRecord;
import net.aitbc.grid.db.tables.records.SwarmRecord;
import org.jooq.DSLContext;
import org.jspecify.annotations.Nullable;

/**
 * Swarms and their memberships: joins through SwarmService (a client id and every worker it owns),
 * joins by name at worker registration (one worker), leaves. Listing them, with reputations and the
 * workers connected now, is {@link SwarmReads}'.
 */
public final class SwarmStore {
  /** The role a worker that joined by name at registration has. */
  public static final String WORKER_ROLE = "worker";

  private final DSLContext dsl;
  private final JobIds ids = new JobIds();

  /** A store over this database. */
  public SwarmStore(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * A swarm as stored.
   *
   * @param swarmId its id
   * @param name its capability, or capability-region
   * @param capability what its members run
   * @param region its region, or "" for none
   * @param createdAt when its first member joined
   */
  public record StoredSwarm(UUID swarmId, String name, String capability, String region, OffsetDateTime createdAt) {}

  /**
   * A membership as stored.
   *
   * @param memberId its id
   * @param swarmId the swarm
   * @param clientId the client id that joined (a worker's owner, for a worker)
   * @param workerId the worker that joined by name, or null for every worker clientId owns
   * @param keyRole the role of the key that joined
   * @param role its role in the swarm
   * @param priority low, normal or high
   * @param joinedAt when it joined
   */
  public record StoredMember(UUID memberId, UUID swarmId, String clientId, @Nullable String workerId, KeyRole keyRole,
      String role, String priority, OffsetDateTime joinedAt) {}

  /**
   * A join.
   *
   * @param swarm the swarm joined
   * @param member the membership
   * @param existing true when the caller was a member already
   */
  public record Joined(StoredSwarm swarm, StoredMember member, boolean existing) {}

  /** The name of the swarm of a capability in a region ("" for none). */
  public static String name(String capability, String region) {
    return region.isEmpty() ? capability : capability + "-" + region;
  }

  /**
   * Joins {@code clientId} (with a key of {@code keyRole}) to the swarm of the capability and region,
   * making the swarm on first join; joining again updates role and priority.
   */
  public Joined join(String clientId, KeyRole keyRole, String capability, String region, String role,
      String priority) {
    OffsetDateTime now = JobStore.now();
    return Database.transaction(dsl, tx -> {
      StoredSwarm swarm = swarm(tx, name(capability, region), capability, region, now);
      Optional<StoredMember> inserted = tx.insertInto(SWARM_MEMBER)
          .set(SWARM_MEMBER.MEMBER_ID, ids.next())
          .set(SWARM_MEMBER.SWARM_ID, swarm.swarmId())
          .set(SWARM_MEMBER.CLIENT_ID, clientId)
          .set(SWARM_MEMBER.KEY_ROLE, keyRole)
          .set(SWARM_MEMBER.ROLE, role)
          .set(SWARM_MEMBER.PRIORITY, priority)
          .set(SWARM_MEMBER.JOINED_AT, now)
          .set(SWARM_MEMBER.UPDATED_AT, now)
          .onConflict(SWARM_MEMBER.SWARM_ID, SWARM_MEMBER.CLIENT_ID).where(SWARM_MEMBER.WORKER_ID.isNull())
          .doNothing()
          .returning()
          .fetchOptional(SwarmStore::toMember);
      if (inserted.isPresent()) {
        return new Joined(swarm, inserted.get(), false);
      }
      StoredMember updated = tx.update(SWARM_MEMBER)
          .set(SWARM_MEMBER.ROLE, role)
          .set(SWARM_MEMBER.PRIORITY, priority)
          .set(SWARM_MEMBER.KEY_ROLE, keyRole)
          .set(SWARM_MEMBER.UPDATED_AT, now)
          .where(SWARM_MEMBER.SWARM_ID.eq(swarm.swarmId()), SWARM_MEMBER.CLIENT_ID.eq(clientId),
              SWARM_MEMBER.WORKER_ID.isNull())
          .returning()
          .fetchSingle(SwarmStore::toMember);
      return new Joined(swarm, updated, true);
    });
  }

  /**
   * Removes {@code clientId}'s membership of a swarm and, with {@code withWorkers}, the memberships
   * by name of the workers it owns; returns what was removed.
   */
  public List<StoredMember> leave(UUID swarmId, String clientId, boolean withWorkers) {
    var which = SWARM_MEMBER.SWARM_ID.eq(swarmId).and(SWARM_MEMBER.CLIENT_ID.eq(clientId));
    return dsl.deleteFrom(SWARM_MEMBER)
        .where(withWorkers ? which : which.and(SWARM_MEMBER.WORKER_ID.isNull()))
        .returning()
        .fetch(SwarmStore::toMember);
  }

  /** A swarm by its id (32 hex characters) or its name. */
  public Optional<StoredSwarm> find(String idOrName) {
    Optional<UUID> id = JobIds.parse(idOrName);
    return dsl.selectFrom(SWARM)
        .where(id.isPresent() ? SWARM.SWARM_ID.eq(id.get()) : SWARM.NAME.eq(idOrName.strip().toLowerCase(Locale.ROOT)))
        .fetchOptional(SwarmStore::toSwarm);
  }

  /**
   * Makes a registering worker a member of exactly the swarms it names (by name, made when new), and
   * of no other by name. A new name that starts with one of its job types, alone or followed by "-"
   * and a region, is that capability in that region; any other is a capability of its own.
   */
  public void registered(String workerId, String ownerId, List<String> names, Set<String> jobTypes) {
    OffsetDateTime now = JobStore.now();
    Database.transaction(dsl, tx -> {
      List<UUID> joined = new ArrayList<>(names.size());
      for (String name : names) {
        String[] split = split(name, jobTypes);
        StoredSwarm swarm = swarm(tx, name, split[0], split[1], now);
        joined.add(swarm.swarmId());
        int inserted = tx.insertInto(SWARM_MEMBER)
            .set(SWARM_MEMBER.MEMBER_ID, ids.next())
            .set(SWARM_MEMBER.SWARM_ID, swarm.swarmId())
            .set(SWARM_MEMBER.CLIENT_ID, ownerId)
            .set(SWARM_MEMBER.WORKER_ID, workerId)
            .set(SWARM_MEMBER.KEY_ROLE, KeyRole.worker)
            .set(SWARM_MEMBER.ROLE, WORKER_ROLE)
            .set(SWARM_MEMBER.PRIORITY, "normal")
            .set(SWARM_MEMBER.JOINED_AT, now)
            .set(SWARM_MEMBER.UPDATED_AT, now)
            .onConflict(SWARM_MEMBER.SWARM_ID, SWARM_MEMBER.WORKER_ID).where(SWARM_MEMBER.WORKER_ID.isNotNull())
            .doNothing()
            .execute();
        if (inserted == 0) {
          // The worker id may have moved to another owner's key since.
          tx.update(SWARM_MEMBER).set(SWARM_MEMBER.CLIENT_ID, ownerId).set(SWARM_MEMBER.UPDATED_AT, now)
              .where(SWARM_MEMBER.SWARM_ID.eq(swarm.swarmId()), SWARM_MEMBER.WORKER_ID.eq(workerId),
                  SWARM_MEMBER.CLIENT_ID.ne(ownerId))
              .execute();
        }
      }
      tx.deleteFrom(SWARM_MEMBER)
          .where(SWARM_MEMBER.WORKER_ID.eq(workerId), joined.isEmpty() ? SWARM_MEMBER.SWARM_ID.isNotNull()
              : SWARM_MEMBER.SWARM_ID.notIn(joined))
          .execute();
      return null;
    });
  }

  /** {capability, region} of a swarm named at registration by a worker running {@code jobTypes}. */
  static String[] split(String name, Set<String> jobTypes) {
    String best = null;
    for (String t : jobTypes) {
      if ((name.equals(t) || name.startsWith(t + "-")) && (best == null || t.length() > best.length())) {
        best = t;
      }
    }
    return best == null ? new String[] {name, ""}
        : new String[] {best, name.length() == best.length() ? "" : name.substring(best.length() + 1)};
  }

  /**
   * The workers a swarm task prefers: the members of {@code swarmId} (or, without one, of the swarms
   * of the capability that {@code clientId} joined) first, then the members of the capability's other
   * swarms. A monitor's membership prefers none.
   */
  public Preferred preferred(String capability, @Nullable UUID swarmId, String clientId) {
    var rows = dsl.select(SWARM_MEMBER.SWARM_ID, SWARM_MEMBER.CLIENT_ID, SWARM_MEMBER.WORKER_ID, SWARM_MEMBER.ROLE)
        .from(SWARM_MEMBER).join(SWARM).on(SWARM.SWARM_ID.eq(SWARM_MEMBER.SWARM_ID))
        .where(swarmId == null ? SWARM.CAPABILITY.eq(capability)
            : SWARM.CAPABILITY.eq(capability).or(SWARM.SWARM_ID.eq(swarmId)))
        .fetch();
    Set<UUID> first = new HashSet<>();
    if (swarmId != null) {
      first.add(swarmId);
    } else {
      rows.stream().filter(r -> r.value2().equals(clientId) && r.value3() == null).forEach(r -> first.add(r.value1()));
    }
    Preferred p = new Preferred(new HashSet<>(), new HashSet<>(), new HashSet<>(), new HashSet<>());
    for (var r : rows) {
      if ("monitor".equals(r.value4())) {
        continue;
      }
      boolean tier0 = first.contains(r.value1());
      if (r.value3() != null) {
        (tier0 ? p.firstWorkers() : p.secondWorkers()).add(r.value3());
      } else {
        (tier0 ? p.firstOwners() : p.secondOwners()).add(r.value2());
      }
    }
    return p;
  }

  /**
   * Workers a task prefers, by worker id or by owner.
   *
   * @param firstWorkers tier 0 by worker
   * @param firstOwners tier 0 by owner
   * @param secondWorkers tier 1 by worker
   * @param secondOwners tier 1 by owner
   */
  public record Preferred(Set<String> firstWorkers, Set<String> firstOwners, Set<String> secondWorkers,
      Set<String> secondOwners) {
    /** 0, 1 or 2 (preferred by neither). */
    public int tier(String workerId, String ownerId) {
      if (firstWorkers.contains(workerId) || firstOwners.contains(ownerId)) {
        return 0;
      }
      return secondWorkers.contains(workerId) || secondOwners.contains(ownerId) ? 1 : 2;
    }
  }

  /** Workers with an open session now on any coordinator (the latest session of each), and what they offer. */
  public List<LiveWorker> liveWorkers() {
    OffsetDateTime now = JobStore.now();
    Set<String> seen = new HashSet<>();
    List<LiveWorker> out = new ArrayList<>();
    dsl.select(WORKER_SESSION.WORKER_ID, WORKER_SESSION.OWNER_ID, WORKER_SESSION.CAPABILITIES)
        .from(WORKER_SESSION)
        .where(WORKER_SESSION.CLOSED_AT.isNull(), WORKER_SESSION.LEASE_EXPIRES_AT.gt(now))
        .orderBy(WORKER_SESSION.CONNECTED_AT.desc())
        .forEach(r -> {
          if (seen.add(r.value1())) {
            out.add(new LiveWorker(r.value1(), r.value2(), Capabilities.offer(r.value3().data())));
          }
        });
    out.sort(Comparator.comparing(LiveWorker::workerId));
    return out;
  }

  private StoredSwarm swarm(DSLContext tx, String name, String capability, String region, OffsetDateTime now) {
    tx.insertInto(SWARM)
        .set(SWARM.SWARM_ID, ids.next())
        .set(SWARM.NAME, name)
        .set(SWARM.CAPABILITY, capability)
        .set(SWARM.REGION, region)
        .set(SWARM.CREATED_AT, now)
        .onConflict(SWARM.NAME).doNothing()
        .execute();
    return tx.selectFrom(SWARM).where(SWARM.NAME.eq(name)).fetchSingle(SwarmStore::toSwarm);
  }

  /** Whether any session of the worker is open now. */
  static boolean live(DSLContext tx, String workerId, OffsetDateTime now) {
    return tx.fetchExists(tx.selectOne().from(WORKER_SESSION).where(WORKER_SESSION.WORKER_ID.eq(workerId),
        WORKER_SESSION.CLOSED_AT.isNull(), WORKER_SESSION.LEASE_EXPIRES_AT.gt(now)));
  }

  static StoredSwarm toSwarm(SwarmRecord r) {
    return new StoredSwarm(r.getSwarmId(), r.getName(), r.getCapability(), r.getRegion(), r.getCreatedAt());
  }

  static StoredMember toMember(SwarmMemberRecord r) {
    return new StoredMember(r.getMemberId(), r.getSwarmId(), r.getClientId(), r.getWorkerId(), r.getKeyRole(),
        r.getRole(), r.getPriority(), r.getJoinedAt());
  }
}
