/**
 * The worker's side of the coordinator stream: registration, credits, job runs, heartbeats and
 * reconnects.
 */
@NullMarked
package net.aitbc.grid.worker.session;

import org.jspecify.annotations.NullMarked;
