package net.aitbc.grid.coordinator.store;

/**
 * A worker with an open session on some coordinator, and what it offers.
 *
 * @param workerId the worker
 * @param ownerId the client id of its worker key
 * @param offer what it advertised, normalised
 */
public record LiveWorker(String workerId, String ownerId, Offer offer) {}
