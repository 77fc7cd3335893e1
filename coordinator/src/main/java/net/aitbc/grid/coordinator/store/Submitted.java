package net.aitbc.grid.coordinator.store;

import net.aitbc.grid.v1.Job;

/**
 * The outcome of an insert.
 *
 * @param job the stored job
 * @param existing true when the idempotency key matched a job created earlier
 */
public record Submitted(Job job, boolean existing) {}
