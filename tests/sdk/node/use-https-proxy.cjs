// Preloaded with `node -r ./use-https-proxy.cjs`: Node's own `https` ignores HTTPS_PROXY, and both
// halves of passage-node (node-fetch for the Management API, jose for the JWKS) use
// `https.globalAgent`, so replacing that agent is the one public way to send them through a proxy.
// The proxy's CA comes from NODE_EXTRA_CA_CERTS, which Node reads at start.
const https = require('node:https');
const { HttpsProxyAgent } = require('https-proxy-agent');

if (process.env.HTTPS_PROXY) {
  https.globalAgent = new HttpsProxyAgent(process.env.HTTPS_PROXY);
}
