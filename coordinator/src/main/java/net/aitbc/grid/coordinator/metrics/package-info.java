/** Prometheus metrics: meter names and the scrape endpoint. */
@NullMarked
package net.aitbc.grid.coordinator.metrics;

import org.jspecify.annotations.NullMarked;
