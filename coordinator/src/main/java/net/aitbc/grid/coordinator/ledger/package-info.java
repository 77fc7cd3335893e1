/**
 * Receipts and the ledger: what a completed job's receipt says and costs (and an ended payment's
 * and execution's), sealing receipts into signed blocks, proofs, checking a receipt someone holds,
 * and signing a receipt when it is first read. Knows no gRPC.
 */
@NullMarked
package net.aitbc.grid.coordinator.ledger;

import org.jspecify.annotations.NullMarked;
