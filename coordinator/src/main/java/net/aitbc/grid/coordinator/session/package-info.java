/** Connected worker streams: credits, running attempts, and the single writer of each stream. */
@NullMarked
package net.aitbc.grid.coordinator.session;

import org.jspecify.annotations.NullMarked;
