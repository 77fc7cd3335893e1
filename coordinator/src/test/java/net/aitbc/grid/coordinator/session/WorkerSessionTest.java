package net.aitbc.grid.coordinator.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import net.aitbc.grid.coordinator.auth.KeyLimits;
import net.aitbc.grid.coordinator.auth.Principal;
import net.aitbc.grid.coordinator.auth.Role;
import net.aitbc.grid.coordinator.store.ClaimedJob;
import net.aitbc.grid.coordinator.store.Offer;
import org.junit.jupiter.api.Test;

/**
 * A session's credits and the order of what its worker hears. The link here records what a
 * transport would be asked to send; the transport itself is tested over real gRPC elsewhere.
 */
class WorkerSessionTest {
  private final List<String> sent = new ArrayList<>();
  private final WorkerLink link = new WorkerLink() {
    @Override
    public void assign(List<ClaimedJob> jobs, OffsetDateTime leaseExpiresAt) {
      jobs.forEach(j -> sent.add("assign " + j.jobId() + "/" + j.attempt()));
    }

    @Override
    public void revoke(UUID jobId, int attempt, String reason) {
      sent.add("revoke " + jobId + "/" + attempt);
    }

    @Override
    public void drain(String reason) {
      sent.add("drain");
    }

    @Override
    public void end(Ending why, String detail) {
      sent.add("end");
    }

    @Override
    public boolean ended() {
      return false;
    }
  };
  private final WorkerSession session = new WorkerSession(UUID.randomUUID(), "w",
      new Principal("owner", Role.WORKER, "0000000000000000", KeyLimits.DEFAULT),
      Offer.of(List.of("noop"), List.of(), List.of(), 0, "", 0, ""), 3, link, OffsetDateTime.now());

  private static ClaimedJob claimed(UUID id, int attempt) {
    OffsetDateTime now = OffsetDateTime.now();
    return new ClaimedJob(id, attempt, "noop", null, "{}", now, now, now.plusMinutes(15), 0, Duration.ofMinutes(1), 5);
  }

  @Test
  void aRevocationThatComesBeforeItsAssignmentStillReachesTheWorker() {
    UUID job = UUID.randomUUID();
    session.grant(1);
    assertThat(session.reserve(1)).isEqualTo(1);
    // A cancel commits between the claim's commit and the hand-over.
    session.revoke(job, 1, "canceled by client");
    assertThat(session.assign(List.of(claimed(job, 1)))).isEmpty();
    assertThat(sent).isEmpty();
    assertThat(session.holds(job, 1)).isFalse();
    // The credit the claim took is the worker's again.
    assertThat(session.credits()).isEqualTo(1);
  }

  @Test
  void aRevocationAfterItsAssignmentIsSentAfterIt() {
    UUID job = UUID.randomUUID();
    session.assign(List.of(claimed(job, 1)));
    session.revoke(job, 1, "job expired");
    assertThat(sent).containsExactly("assign " + job + "/1", "revoke " + job + "/1");
  }

  @Test
  void aStaleRevocationDoesNotStopALaterAttempt() {
    UUID job = UUID.randomUUID();
    session.assign(List.of(claimed(job, 2)));
    session.revoke(job, 1, "taken back");
    assertThat(session.holds(job, 2)).isTrue();
    assertThat(sent).containsExactly("assign " + job + "/2");
  }

  @Test
  void creditsBeyondWhatTheWorkerMayHoldAreDropped() {
    assertThat(session.grant(10)).isEqualTo(7);
    assertThat(session.credits()).isEqualTo(3);
    int taken = session.reserve(10);
    List<ClaimedJob> jobs = new ArrayList<>();
    for (int i = 0; i < taken; i++) {
      jobs.add(claimed(UUID.randomUUID(), 1));
    }
    session.assign(jobs);
    assertThat(session.grant(1)).isEqualTo(1);
    // Its outcome arrives (before the commit): the worker may be granted one more.
    session.reported(jobs.get(0).jobId(), 1);
    assertThat(session.grant(5)).isEqualTo(4);
    assertThat(session.credits()).isEqualTo(1);
  }
}
