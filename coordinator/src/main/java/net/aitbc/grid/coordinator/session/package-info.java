/**
 * Connected workers, whatever their transport: credits, held attempts, and the {@link
 * net.aitbc.grid.coordinator.session.WorkerLink} through which they hear of assignments and revocations.
 */
@NullMarked
package net.aitbc.grid.coordinator.session;

import org.jspecify.annotations.NullMarked;
