/**
 * Agent workflows: the definition format (steps, references, for_each), its validation, and the
 * planner that decides, from what has happened, which step jobs to start and how an execution ends.
 * Pure logic: no database, no gRPC.
 */
@NullMarked
package net.aitbc.grid.coordinator.workflow;

import org.jspecify.annotations.NullMarked;
