/**
 * {@code grid verify}: offline checks of receipts and of the whole ledger with the coordinator's
 * public key alone, over the REST bridge's ledger routes.
 */
@NullMarked
package net.aitbc.grid.ops.verify;

import org.jspecify.annotations.NullMarked;
