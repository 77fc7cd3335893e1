/** Data access through jOOQ: the only place that talks to PostgreSQL. */
@NullMarked
package net.aitbc.grid.coordinator.store;

import org.jspecify.annotations.NullMarked;
