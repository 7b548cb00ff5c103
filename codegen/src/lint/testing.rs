//! A minimal valid spec that rule tests break one piece at a time.

use crate::spec::LoadedSpec;

pub const VALID: &str = r##"openapi: 3.0.3
info:
  title: Test API
  version: 1.2.3
servers:
  - url: https://example.test/v1
tags:
  - name: Apps
    description: Apps.
  - name: Currentuser
    description: The signed-in user.
paths:
  /apps/{app_id}:
    get:
      operationId: get_app
      summary: Get an app
      description: Returns the app.
      tags: [Apps]
      security: []
      x-idempotent: true
      parameters:
        - name: app_id
          in: path
          required: true
          description: The app id.
          schema:
            type: string
      responses:
        '200':
          description: The app.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/GetAppResponse'
        '404':
          $ref: '#/components/responses/NotFound'
  /apps/{app_id}/currentuser:
    get:
      operationId: get_currentuser
      summary: Get the current user
      description: Returns the user of the bearer token.
      tags: [Currentuser]
      security:
        - bearerAuth: []
      x-idempotent: true
      parameters:
        - name: app_id
          in: path
          required: true
          description: The app id.
          schema:
            type: string
      responses:
        '200':
          description: Deleted.
        '401':
          description: Not signed in.
          content:
            application/json:
              schema:
                $ref: '#/components/schemas/ApiError'
components:
  securitySchemes:
    bearerAuth:
      type: http
      scheme: bearer
  responses:
    NotFound:
      description: Not found.
      content:
        application/json:
          schema:
            $ref: '#/components/schemas/ApiError'
  schemas:
    GetAppResponse:
      type: object
      required: [app]
      properties:
        app:
          $ref: '#/components/schemas/App'
    App:
      type: object
      required: [id]
      properties:
        id:
          type: string
        status:
          $ref: '#/components/schemas/Status'
    Status:
      type: string
      enum: [active, inactive]
    ApiError:
      type: object
      required: [code, error]
      properties:
        code:
          type: string
        error:
          type: string
"##;

/// Loads `VALID` after replacing `from` with `to` (which must occur).
pub fn variant(from: &str, to: &str) -> LoadedSpec {
    assert!(VALID.contains(from), "fixture does not contain {from:?}");
    spec(&VALID.replacen(from, to, 1))
}

pub fn spec(text: &str) -> LoadedSpec {
    LoadedSpec::from_str("test.yaml", text.to_string()).expect("fixture parses")
}
