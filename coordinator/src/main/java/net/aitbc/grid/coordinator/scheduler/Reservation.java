package net.aitbc.grid.coordinator.scheduler;

import java.util.List;
import java.util.concurrent.CompletionException;
import net.aitbc.grid.coordinator.metrics.GridMetrics;
import net.aitbc.grid.coordinator.session.WorkerSession;
import net.aitbc.grid.coordinator.store.NewJob;
import net.aitbc.grid.coordinator.store.Submitted;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A job admitted, tagged and maybe placed on a session, until its insert has committed (or not):
 * then exactly one of {@link #committed} and {@link #abandoned} is called.
 */
public final class Reservation {
  private static final Logger logger = LoggerFactory.getLogger(Reservation.class);

  private final NewJob job;
  private final Admission.Ticket ticket;
  private final FairShare.Lane lane;
  private final FairShare.Tag tag;
  private final double weight;
  private final @Nullable WorkerSession session;
  private final Dispatcher dispatcher;
  private final FairShare fairShare;
  private final GridMetrics metrics;

  Reservation(NewJob job, Admission.Ticket ticket, FairShare.Lane lane, FairShare.Tag tag, double weight,
      Dispatcher dispatcher, FairShare fairShare, GridMetrics metrics) {
    this.ticket = ticket;
    this.lane = lane;
    this.tag = tag;
    this.weight = weight;
    this.dispatcher = dispatcher;
    this.fairShare = fairShare;
    this.metrics = metrics;
    NewJob tagged = job.withFairTag(tag.value());
    // A job with a model list is always queued: only the queue's claim can match a list. A pinned
    // one goes straight to its worker only.
    this.session = !tagged.requirements().models().isEmpty() ? null
        : tagged.pin() != null ? dispatcher.placePinned(tagged) : dispatcher.place(tagged);
    this.job = session == null ? tagged
        : tagged.withPlacement(new NewJob.Placement(session.id(), session.workerId()));
  }

  /** The job to insert: tagged, and placed when a session had a free credit. */
  public NewJob job() {
    return job;
  }

  /** Its insert committed as {@code s}: only now may its worker hear of it. */
  public void committed(Submitted s) {
    try {
      settle(s);
    } catch (CompletionException refused) {
      // Only a paid job is refused as it is stored, and none is reserved.
      logger.error("job {} was refused after it was reserved: {}", job.jobId(), refused.getCause().toString());
    }
  }

  /** Its insert did not commit: what was taken for it is given back. */
  public void abandoned() {
    if (session != null) {
      session.unreserve(1);
    }
    ticket.release();
    fairShare.undo(job.clientId(), lane, tag, weight);
  }

  /** What {@link Scheduler#submit} answers for its insert's outcome {@code s}. */
  Submitted settle(Submitted s) {
    if (session != null && s.placed() == null) {
      session.unreserve(1);
    }
    if (s.existing() || s.refused() != null) {
      ticket.release();
      fairShare.undo(job.clientId(), lane, tag, weight);
      if (s.refused() != null) {
        // Its payment was refused: neither the job nor the payment was stored.
        throw new CompletionException(s.refused());
      }
      return s;
    }
    ticket.stored();
    metrics.submitted();
    if (s.cache() != Submitted.Lookup.NONE) {
      metrics.resultCache(s.cache() == Submitted.Lookup.HIT);
    }
    if (s.cache() == Submitted.Lookup.HIT) {
      // Stored completed with the cached result: no worker is to hear of it, and it took no turn in
      // the client's fair share.
      fairShare.undo(job.clientId(), lane, tag, weight);
      metrics.finished(s.job().state());
    } else if (s.placed() != null && session != null) {
      // Committed as RUNNING on this session: only now may the worker hear of it.
      session.assign(List.of(s.placed()));
      fairShare.handedOut(lane, s.placed().fairTag());
      metrics.dispatched(java.time.Duration.ZERO);
    } else {
      dispatcher.queued(job);
    }
    return s;
  }
}
