// Prints the openapi-typescript output for the OpenAPI document in the file named by argv[2].
// A child process because openapi-typescript loads ES modules that jest's require cannot.
import { readFileSync } from 'node:fs';
import process from 'node:process';
import openapiTS, { astToString } from 'openapi-typescript';

const document = JSON.parse(readFileSync(process.argv[2], 'utf8'));
process.stdout.write(astToString(await openapiTS(document)));
