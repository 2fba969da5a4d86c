package io.prefstream.model;

/**
 * One (prompt, response) a reward model scores.
 *
 * @param prompt what the user asked, with any earlier turns
 * @param response the reply to score
 */
public record Candidate(String prompt, String response) {}
