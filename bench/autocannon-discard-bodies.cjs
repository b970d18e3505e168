/* global module */
// autocannon `setupClient` for bench:api: autocannon appends every response body to a string, which for a
// 660 kB brotli body is a UTF-8 decode per response (81% of the load generator's CPU in a profile) and caps the
// measured rate at the generator's speed, not the server's. The bench checks one body itself and needs only
// status codes and byte counts, which autocannon counts elsewhere.
module.exports = function discardBodies(client) {
  client.pipelinedRequests.addBody = () => {};
};
