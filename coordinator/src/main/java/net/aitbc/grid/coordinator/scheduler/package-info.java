/** Group commit of submissions and outcomes, dispatch to workers, and the lease and TTL sweeper. */
@NullMarked
package net.aitbc.grid.coordinator.scheduler;

import org.jspecify.annotations.NullMarked;
