// Rocket.Chat's verdict on request bodies. Reads JSON lines {"schema": NAME, "body": ...}
// and writes one JSON line each: {"valid": true, "data": <coerced body>} or
// {"valid": false, "message": <the one message the server sends>}.
//
// The schemas are taken from the published rest-typings code (rest-typings/omnichannel.js) and
// compiled by AJVs configured exactly as rest-typings' Ajv.js configures its body validator
// (`ajv`) and its query-string validator (`ajvQuery`), with the same formats and keywords.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import Ajv from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const source =
    readFileSync(new URL('./rest-typings/omnichannel.js', import.meta.url), 'utf8') +
    readFileSync(new URL('./rest-typings/UsersInfoParamsGet.js', import.meta.url), 'utf8');
const ajvConfig = readFileSync(new URL('./rest-typings/Ajv.js', import.meta.url), 'utf8');
if (!/coerceTypes: true,\s*allowUnionTypes: true/.test(ajvConfig)) {
    throw new Error('rest-typings configures its body validator differently than this script assumes');
}
if (!/coerceTypes: 'array',\s*allowUnionTypes: true/.test(ajvConfig)) {
    throw new Error('rest-typings configures its query validator differently than this script assumes');
}
if (!ajvConfig.includes("addFormat('basic_email', /^[^@]+@[^@]+$/)") || !ajvConfig.includes("keyword: 'isNotEmpty'")) {
    throw new Error('rest-typings declares basic_email or isNotEmpty differently than this script assumes');
}

function schemaNamed(name) {
    const start = source.indexOf(`const ${name} = {`);
    if (start < 0) throw new Error(`${name} not found in rest-typings`);
    const end = source.indexOf('\n};\n', start);
    const literal = source.slice(source.indexOf('{', start), end + 2);
    return new Function(`return ${literal}`)();
}

function configured(coerceTypes) {
    const instance = new Ajv({ coerceTypes, allowUnionTypes: true, code: { source: true }, discriminator: true });
    addFormats(instance);
    instance.addFormat('basic_email', /^[^@]+@[^@]+$/);
    instance.addKeyword({
        keyword: 'isNotEmpty',
        type: 'string',
        validate: (_schema, data) => typeof data === 'string' && !!data.trim(),
    });
    return instance;
}
const ajv = configured(true);
const ajvQuery = configured('array');
const validators = {
    update: ajv.compile(schemaNamed('POSTUpdateOmnichannelContactsSchema')),
    conflicts: ajv.compile(schemaNamed('POSTOmnichannelContactsConflictsSchema')),
    create: ajv.compile(schemaNamed('POSTOmnichannelContactsSchema')),
    delete: ajv.compile(schemaNamed('POSTOmnichannelContactDeleteSchema')),
    get: ajvQuery.compile(schemaNamed('GETOmnichannelContactsSchema')),
    search: ajvQuery.compile(schemaNamed('GETOmnichannelContactsSearchSchema')),
    checkExistence: ajvQuery.compile(schemaNamed('GETOmnichannelContactsCheckExistenceSchema')),
    customField: ajv.compile(schemaNamed('POSTLivechatCustomFieldParamsSchema')),
    customFields: ajv.compile(schemaNamed('POSTLivechatCustomFieldsParamsSchema')),
    roomClose: ajv.compile(schemaNamed('POSTLivechatRoomCloseParamsSchema')),
    message: ajv.compile(schemaNamed('POSTLivechatMessageParamsSchema')),
    history: ajvQuery.compile(schemaNamed('GETLivechatMessagesHistoryRidParamsSchema')),
    contactHistory: ajvQuery.compile(schemaNamed('GETOmnichannelContactHistorySchema')),
    contactChannels: ajvQuery.compile(schemaNamed('GETOmnichannelContactsChannelsSchema')),
    customFieldsList: ajvQuery.compile(schemaNamed('LivechatCustomFieldsSchema')),
    roomMessages: ajvQuery.compile(schemaNamed('LivechatRidMessagesSchema')),
    users: ajvQuery.compile(schemaNamed('LivechatUsersManagerGETSchema')),
    usersInfo: ajvQuery.compile(schemaNamed('UsersInfoParamsGetSchema')),
    // ee contacts.ts builds the block body around rest-typings' association schema.
    block: ajv.compile({
        type: 'object',
        properties: { visitor: schemaNamed('ContactVisitorAssociationSchema') },
        required: ['visitor'],
        additionalProperties: false,
    }),
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
    if (!line.trim()) continue;
    const { schema, body } = JSON.parse(line);
    const validate = validators[schema];
    const data = body;
    const valid = validate(data);
    const answer = valid
        ? { valid: true, data }
        : { valid: false, message: validate.errors.map((e) => e.message).join('\n ') };
    process.stdout.write(JSON.stringify(answer) + '\n');
}
