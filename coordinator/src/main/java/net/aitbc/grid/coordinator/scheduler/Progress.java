package net.aitbc.grid.coordinator.scheduler;

import java.util.UUID;

/**
 * Live output of a running attempt, as its worker reported it.
 *
 * @param jobId the job
 * @param attempt the attempt
 * @param percent 0 to 100, or negative when the worker cannot tell
 * @param output output produced since the previous progress (streamed tokens, say)
 */
public record Progress(UUID jobId, int attempt, double percent, String output) {}
