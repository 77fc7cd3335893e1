/** The {@code grid} launcher: the all-in-one dev mode, each part alone, and key management. */
@NullMarked
package net.aitbc.grid.ops;

import org.jspecify.annotations.NullMarked;
