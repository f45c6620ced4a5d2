/** Entry of the resident portal (住民ポータル), served at `/`. */
import { mount } from '../shared/mount.tsx';
import { PortalPage } from './portal-page.tsx';
import { registerServiceWorker } from './push.ts';

mount(<PortalPage />);
registerServiceWorker();
