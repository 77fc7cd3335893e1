/**
 * The job life cycle, free of any transport: admission, fair share, group commit of submissions and
 * outcomes, dispatch to workers, and the {@link net.aitbc.grid.coordinator.scheduler.ExpirySweeper}
 * (leases, run timeouts, TTLs).
 */
@NullMarked
package net.aitbc.grid.coordinator.scheduler;

import org.jspecify.annotations.NullMarked;
