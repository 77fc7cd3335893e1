package net.aitbc.grid.coordinator.store;

import net.aitbc.grid.v1.Job;

/**
 * A job with its result.
 *
 * @param job the job
 * @param resultJson its result as a JSON object, or empty when it has none
 */
public record StoredResult(Job job, String resultJson) {}
