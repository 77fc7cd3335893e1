/**
 * The worker's side of the coordinator stream. {@link CoordinatorSession} keeps a stream open and
 * reconnects; {@link StreamSession} speaks one stream's protocol (registration, credits,
 * heartbeats, revocations, drains, acks) through its single writer {@link Outbound}; {@link
 * JobRunner} runs the assigned jobs (slots, backends, progress, outcomes); {@link OutcomeSigner}
 * signs completed outcomes in batches, one signature each, when the coordinator asks for it.
 */
@NullMarked
package net.aitbc.grid.worker.session;

import org.jspecify.annotations.NullMarked;
