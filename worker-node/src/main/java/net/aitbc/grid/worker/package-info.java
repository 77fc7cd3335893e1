/**
 * The worker daemon: {@link net.aitbc.grid.worker.WorkerNode} connects a machine's backends to a
 * coordinator.
 */
@NullMarked
package net.aitbc.grid.worker;

import org.jspecify.annotations.NullMarked;
