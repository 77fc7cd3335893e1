/**
 * {@code grid bench}: measures the grid on loopback the way the PostgreSQL job-queue peers are
 * measured (submit, process a backlog, latency at a steady rate), plus the REST path, embedding
 * jobs and a 10,000-worker scale run. Every number comes from the real path: a coordinator in its
 * own JVM, real gRPC streams over TCP, outcomes acknowledged only after they are committed.
 */
@NullMarked
package net.aitbc.grid.ops.bench;

import org.jspecify.annotations.NullMarked;
