/** The coordinator: the grid's scheduler and system of record. Start with {@link Coordinator}. */
@NullMarked
package net.aitbc.grid.coordinator;

import org.jspecify.annotations.NullMarked;
