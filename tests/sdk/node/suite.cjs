// passage-node 2.12.1 through its public API only, against whatever answers for auth.passage.id and
// api.passage.id (the emulator, behind its intercepting proxy; see use-https-proxy.cjs). Each step
// prints what the test checks against the emulator's own state (tests/tests/sdk_node.rs).
const { Passage } = require('@passageidentity/passage-node');
const { step, required } = require('./steps.cjs');

async function main() {
  const passage = new Passage({ appID: required('PASSAGE_APP_ID'), apiKey: required('PASSAGE_API_KEY') });
  const token = required('SESSION_AUTH_TOKEN');
  const sessionUser = required('SESSION_USER_ID');
  const deviceUser = required('DEVICE_USER_ID');
  const inactiveUser = required('INACTIVE_USER_ID');
  const doomedUser = required('DOOMED_USER_ID');
  const userOf = (user) => ({
    id: user.id,
    email: user.email,
    status: user.status,
    webauthn: user.webauthn,
    webauthn_devices: (user.webauthn_devices || []).map((d) => d.id),
  });

  await step('validate_jwt', async () => ({ user_id: await passage.auth.validateJwt(token) }));
  await step('validate_tampered_jwt', async () => {
    const [header, claims, signature] = token.split('.');
    const flipped = (signature[0] === 'A' ? 'B' : 'A') + signature.slice(1);
    return { user_id: await passage.auth.validateJwt([header, claims, flipped].join('.')) };
  });
  await step('authenticate_header', async () => ({
    user_id: await passage.authenticateRequestWithHeader({ headers: { authorization: `Bearer ${token}` } }),
  }));
  await step('authenticate_cookie', async () => ({
    user_id: await passage.authenticateRequestWithCookie({ headers: { cookie: `theme=dark; psg_auth_token=${token}` } }),
  }));
  await step('get_app', async () => {
    const app = await passage.getApp();
    return { id: app.id, name: app.name, auth_origin: app.auth_origin };
  });
  let created;
  await step('create_user', async () => {
    created = await passage.user.create({ email: 'created@example.com' });
    return userOf(created);
  });
  await step('get_user', async () => userOf(await passage.user.get(deviceUser)));
  await step('update_user', async () =>
    userOf(await passage.user.update(created.id, { email: 'updated@example.com' })));
  await step('deactivate_user', async () => userOf(await passage.user.deactivate(created.id)));
  await step('activate_user', async () => userOf(await passage.user.activate(inactiveUser)));
  await step('delete_user', async () => ({ deleted: await passage.user.delete(doomedUser) }));
  await step('get_deleted_user', async () => userOf(await passage.user.get(doomedUser)));
  let devices;
  await step('list_devices', async () => {
    devices = await passage.user.listDevices(deviceUser);
    return { devices: devices.map((d) => ({ id: d.id, cred_id: d.cred_id, type: d.type })) };
  });
  await step('revoke_device', async () => ({ revoked: await passage.user.revokeDevice(deviceUser, devices[0].id) }));
  await step('revoke_refresh_tokens', async () => ({ revoked: await passage.user.revokeRefreshTokens(sessionUser) }));
  await step('create_magic_link', async () => {
    const link = await passage.auth.createMagicLink({ email: 'session@example.com', type: 'login', send: true });
    return { id: link.id, identifier: link.identifier, user_id: link.user_id, activated: link.activated };
  });
}

// Exit once done: the open stdin of the step protocol and the proxy agent's kept-alive sockets
// would keep Node running (stdout to a pipe is written synchronously, so nothing is lost).
main().then(() => process.exit(0), (error) => {
  process.stderr.write(`suite stopped: ${error && error.message}\n`);
  process.exit(1);
});
