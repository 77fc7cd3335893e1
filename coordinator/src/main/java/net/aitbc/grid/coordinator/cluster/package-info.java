/** Replicas: the coordinators that share one database, their heartbeats and the messages between them. */
@NullMarked
package net.aitbc.grid.coordinator.cluster;

import org.jspecify.annotations.NullMarked;
