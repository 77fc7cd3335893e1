package net.aitbc.grid.coordinator.store;

import static java.util.Objects.requireNonNull;
import static net.aitbc.grid.db.Tables.SWARM;
import static net.aitbc.grid.db.Tables.SWARM_MEMBER;
import static net.aitbc.grid.db.Tables.WORKER_REPUTATION;
import static net.aitbc.grid.db.Tables.WORKER_SESSION;
import static org.jooq.impl.DSL.avg;
import static org.jooq.impl.DSL.exists;
import static org.jooq.impl.DSL.notExists;
import static org.jooq.impl.DSL.selectOne;
import static org.jooq.impl.DSL.sum;

import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import net.aitbc.grid.coordinator.store.SwarmStore.StoredMember;
import net.aitbc.grid.coordinator.store.SwarmStore.StoredSwarm;
import org.jooq.Condition;
import org.jooq.DSLContext;
import org.jooq.impl.DSL;
import org.jspecify.annotations.Nullable;

/**
 * Swarms as ListSwarms shows them: each with its members, their reputations (a worker's own, or the
 * mean of the judged workers a client id owns) and the workers connected now.
 */
public final class SwarmReads {
  /** A worker never judged starts here. */
  public static final double INITIAL_REPUTATION = 0.5;
  private static final int MEMBERS_SHOWN = 100;

  private final DSLContext dsl;

  /** Reads over this database. */
  public SwarmReads(DSLContext dsl) {
    this.dsl = requireNonNull(dsl, "dsl");
  }

  /**
   * A member with what its workers have earned.
   *
   * @param member the membership
   * @param reputation its worker's, or the mean of its client id's judged workers (0.5 when none is)
   * @param agreements results that agreed with an accepted consensus
   * @param dissents results that dissented from one
   * @param connectedWorkers its workers connected now
   */
  public record MemberView(StoredMember member, double reputation, int agreements, int dissents,
      List<String> connectedWorkers) {}

  /**
   * A swarm with its members (the earliest first, at most 100).
   *
   * @param swarm the swarm
   * @param members its members
   * @param memberCount how many it has
   * @param connectedWorkers distinct workers its members cover that are connected now
   */
  public record SwarmView(StoredSwarm swarm, List<MemberView> members, int memberCount, int connectedWorkers) {}

  /**
   * What to list; null filters nothing.
   *
   * @param swarmId only this swarm
   * @param capability only this capability
   * @param status "active", "empty" or "joined" (by {@code clientId})
   * @param clientId the caller
   */
  public record Filter(@Nullable UUID swarmId, @Nullable String capability, @Nullable String status, String clientId) {}

  /**
   * A worker's standing.
   *
   * @param reputation 0 to 1
   * @param agreements results that agreed with an accepted consensus
   * @param dissents results that dissented from one
   * @param latencyMs the moving average of its member jobs' run times, or null
   */
  public record Standing(double reputation, int agreements, int dissents, @Nullable Long latencyMs) {
    /** A worker never judged. */
    public static final Standing NEW = new Standing(INITIAL_REPUTATION, 0, 0, null);
  }

  /** A page of swarms by name. */
  public List<SwarmView> list(Filter f, int offset, int limit) {
    Condition where = DSL.trueCondition();
    if (f.swarmId() != null) {
      where = where.and(SWARM.SWARM_ID.eq(f.swarmId()));
    }
    if (f.capability() != null) {
      where = where.and(SWARM.CAPABILITY.eq(f.capability()));
    }
    var anyMember = selectOne().from(SWARM_MEMBER).where(SWARM_MEMBER.SWARM_ID.eq(SWARM.SWARM_ID));
    if ("active".equals(f.status())) {
      where = where.and(exists(anyMember));
    } else if ("empty".equals(f.status())) {
      where = where.and(notExists(anyMember));
    } else if ("joined".equals(f.status())) {
      where = where.and(exists(anyMember.and(SWARM_MEMBER.CLIENT_ID.eq(f.clientId()))));
    }
    List<StoredSwarm> swarms = dsl.selectFrom(SWARM).where(where).orderBy(SWARM.NAME).offset(offset).limit(limit)
        .fetch(SwarmStore::toSwarm);
    return views(swarms);
  }

  /** Views of these swarms, with their members. */
  public List<SwarmView> views(List<StoredSwarm> swarms) {
    if (swarms.isEmpty()) {
      return List.of();
    }
    Map<UUID, List<StoredMember>> members = new HashMap<>();
    dsl.selectFrom(SWARM_MEMBER)
        .where(SWARM_MEMBER.SWARM_ID.in(swarms.stream().map(StoredSwarm::swarmId).toList()))
        .orderBy(SWARM_MEMBER.JOINED_AT, SWARM_MEMBER.MEMBER_ID)
        .forEach(r -> members.computeIfAbsent(r.getSwarmId(), id -> new ArrayList<>()).add(SwarmStore.toMember(r)));
    Map<String, List<String>> liveByOwner = new HashMap<>();
    Set<String> live = new LinkedHashSet<>();
    OffsetDateTime now = JobStore.now();
    dsl.selectDistinct(WORKER_SESSION.WORKER_ID, WORKER_SESSION.OWNER_ID).from(WORKER_SESSION)
        .where(WORKER_SESSION.CLOSED_AT.isNull(), WORKER_SESSION.LEASE_EXPIRES_AT.gt(now))
        .orderBy(WORKER_SESSION.WORKER_ID)
        .forEach(r -> {
          live.add(r.value1());
          liveByOwner.computeIfAbsent(r.value2(), o -> new ArrayList<>()).add(r.value1());
        });
    Set<String> workers = new LinkedHashSet<>();
    Set<String> owners = new LinkedHashSet<>();
    members.values().forEach(list -> list.forEach(m -> {
      if (m.workerId() != null) {
        workers.add(m.workerId());
      } else {
        owners.add(m.clientId());
      }
    }));
    Map<String, Standing> byWorker = standings(workers);
    Map<String, Standing> byOwner = ownerStandings(owners);
    List<SwarmView> out = new ArrayList<>(swarms.size());
    for (StoredSwarm s : swarms) {
      List<StoredMember> list = members.getOrDefault(s.swarmId(), List.of());
      Set<String> connected = new LinkedHashSet<>();
      List<MemberView> views = new ArrayList<>(Math.min(list.size(), MEMBERS_SHOWN));
      for (StoredMember m : list) {
        List<String> mine = m.workerId() != null ? (live.contains(m.workerId()) ? List.of(m.workerId()) : List.of())
            : liveByOwner.getOrDefault(m.clientId(), List.of());
        connected.addAll(mine);
        Standing st = m.workerId() != null ? byWorker.getOrDefault(m.workerId(), Standing.NEW)
            : byOwner.getOrDefault(m.clientId(), Standing.NEW);
        if (views.size() < MEMBERS_SHOWN) {
          views.add(new MemberView(m, st.reputation(), st.agreements(), st.dissents(), mine));
        }
      }
      out.add(new SwarmView(s, views, list.size(), connected.size()));
    }
    return out;
  }

  /** The standings of these workers that have been judged. */
  public Map<String, Standing> standings(Collection<String> workerIds) {
    Map<String, Standing> out = new LinkedHashMap<>();
    if (workerIds.isEmpty()) {
      return out;
    }
    dsl.selectFrom(WORKER_REPUTATION).where(WORKER_REPUTATION.WORKER_ID.in(workerIds)).forEach(r ->
        out.put(r.getWorkerId(), new Standing(r.getReputation().doubleValue(), r.getAgreements(), r.getDissents(),
            r.getLatencyMs() == null ? null : r.getLatencyMs().longValue())));
    return out;
  }

  /** Per owner: the mean reputation of its judged workers and their summed counts. */
  private Map<String, Standing> ownerStandings(Collection<String> owners) {
    Map<String, Standing> out = new HashMap<>();
    if (owners.isEmpty()) {
      return out;
    }
    dsl.select(WORKER_REPUTATION.OWNER_ID, avg(WORKER_REPUTATION.REPUTATION), sum(WORKER_REPUTATION.AGREEMENTS),
            sum(WORKER_REPUTATION.DISSENTS))
        .from(WORKER_REPUTATION)
        .where(WORKER_REPUTATION.OWNER_ID.in(owners))
        .groupBy(WORKER_REPUTATION.OWNER_ID)
        .forEach(r -> out.put(r.value1(), new Standing(round(r.value2()), r.value3().intValue(),
            r.value4().intValue(), null)));
    return out;
  }

  private static double round(BigDecimal d) {
    return d.setScale(4, java.math.RoundingMode.HALF_EVEN).doubleValue();
  }
}
