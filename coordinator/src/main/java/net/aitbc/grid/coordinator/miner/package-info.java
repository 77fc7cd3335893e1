/**
 * REST miners (the aitbc CLI's {@code miner} commands): registrations kept in the database, and
 * sessions that are the scheduler's own worker sessions, reached through long polls instead of a
 * stream.
 */
@NullMarked
package net.aitbc.grid.coordinator.miner;

import org.jspecify.annotations.NullMarked;
